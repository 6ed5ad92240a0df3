from flask import Flask, make_response
from flask_cors import CORS

app = Flask(__name__)

# ruleid: vigil-python-cors-wildcard-credentials
CORS(app, supports_credentials=True)

# ok: vigil-python-cors-wildcard-credentials
CORS(app, origins=["https://app.example.com"], supports_credentials=True)

api = Flask("api")
# ruleid: vigil-python-cors-wildcard-credentials
CORS(api, origins="*", supports_credentials=True)
# ok: vigil-python-cors-wildcard-credentials
CORS(api)


@app.route("/login")
def login():
    resp = make_response("ok")
    # ruleid: vigil-python-insecure-cookie
    resp.set_cookie("session", "abc")
    # ruleid: vigil-python-insecure-cookie
    resp.set_cookie("remember", "1", httponly=True)
    # ok: vigil-python-insecure-cookie
    resp.set_cookie("session", "abc", secure=True, httponly=True, samesite="Lax")
    # ok: vigil-python-insecure-cookie
    resp.set_cookie("theme", "dark")
    # ruleid: vigil-python-insecure-cookie
    resp.set_cookie(key="auth_token", value="x", secure=True)
    return resp


def configure(other):
    # ruleid: vigil-python-flask-debug
    app.config["DEBUG"] = True
    # ok: vigil-python-flask-debug
    other.config["DEBUG"] = False


if __name__ == "__main__":
    # ok: vigil-python-flask-debug
    app.run(host="127.0.0.1", debug=False)
    # ruleid: vigil-python-flask-debug
    app.run(host="0.0.0.0", debug=True)


# Settings module style, as in Django's settings.py.
import os  # noqa: E402

# ruleid: vigil-python-django-debug
DEBUG = True
# ok: vigil-python-django-debug
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
if os.environ.get("STAGE") == "dev":
    # ruleid: vigil-python-django-debug
    DEBUG = True
else:
    # ok: vigil-python-django-debug
    DEBUG = False
