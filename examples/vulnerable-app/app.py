"""A deliberately vulnerable little app: Vigil's first scan should report both issues."""

import subprocess

from flask import Flask, request

app = Flask(__name__)


@app.get("/ping")
def ping():
    host = request.args["host"]
    return subprocess.run("ping -c 1 " + host, shell=True, capture_output=True).stdout


@app.get("/calc")
def calc():
    return str(eval(request.args["expr"]))
