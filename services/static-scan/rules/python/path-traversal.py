import os

from flask import Flask, request, send_file
from werkzeug.utils import secure_filename

app = Flask(__name__)
BASE = "/srv/uploads"


@app.route("/download")
def download():
    name = request.args["file"]
    # ruleid: vigil-python-path-traversal
    return send_file(os.path.join(BASE, name))


@app.route("/read/<path>")
def read(path):
    # ruleid: vigil-python-path-traversal
    with open(BASE + "/" + path) as fh:
        return fh.read()


@app.route("/safe-download")
def safe_download():
    name = secure_filename(request.args["file"])
    # ok: vigil-python-path-traversal
    return send_file(os.path.join(BASE, name))


@app.route("/safe-read")
def safe_read():
    full = os.path.realpath(os.path.join(BASE, request.args["file"]))
    if not full.startswith(BASE + os.sep):
        return "no", 400
    # ok: vigil-python-path-traversal
    with open(full) as fh:
        return fh.read()
