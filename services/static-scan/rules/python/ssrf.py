import urllib.request

import requests
from flask import Flask, request

app = Flask(__name__)
ALLOWED = {"images.example.com"}


@app.route("/preview")
def preview():
    url = request.args.get("url")
    # ruleid: vigil-python-ssrf
    return requests.get(url, timeout=5).text


@app.route("/proxy", methods=["POST"])
def proxy():
    target = request.json["target"]
    # ruleid: vigil-python-ssrf
    return urllib.request.urlopen("http://%s/status" % target).read()


@app.route("/user/<name>")
def user(name):
    # ok: vigil-python-ssrf
    return requests.get(f"https://api.example.com/users/{name}", timeout=5).json()


@app.route("/search")
def search():
    # ok: vigil-python-ssrf
    return requests.get("https://api.example.com/search", params={"q": request.args["q"]}).json()
