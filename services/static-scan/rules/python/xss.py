from django.http import HttpResponse
from django.utils.safestring import mark_safe
from flask import Flask, Markup, escape, redirect, render_template_string, request, url_for

app = Flask(__name__)


@app.route("/hello")
def hello():
    name = request.args.get("name", "")
    # ruleid: vigil-python-xss
    return "<h1>Hello " + name + "</h1>"


@app.route("/hello-safe")
def hello_safe():
    name = request.args.get("name", "")
    # ok: vigil-python-xss
    return "<h1>Hello " + escape(name) + "</h1>"


@app.route("/bio")
def bio():
    # ruleid: vigil-python-xss
    return render_template_string("<p>{{ bio }}</p>", bio=Markup(request.form["bio"]))


@app.route("/status")
def status():
    # ok: vigil-python-xss
    return {"query": request.args.get("q")}


def greet(request):
    # ruleid: vigil-python-xss
    return HttpResponse("<p>Hi %s</p>" % request.GET["who"])


def greet_safe(request):
    # ok: vigil-python-xss
    return HttpResponse(mark_safe("<p>Static</p>"))


@app.route("/page")
def page():
    title = request.args.get("title", "")
    # ruleid: vigil-python-template-injection
    return render_template_string("<h1>" + title + "</h1>")


@app.route("/page-safe")
def page_safe():
    # ok: vigil-python-template-injection
    return render_template_string("<h1>{{ t }}</h1>", t=request.args.get("title", ""))


@app.route("/mail")
def mail():
    from jinja2 import Environment

    env = Environment()
    # ruleid: vigil-python-template-injection
    body = env.from_string(request.form["template"]).render()
    # ok: vigil-python-template-injection
    footer = env.from_string("Sent by {{ app }}").render(app=request.form["app"])
    return body + footer


@app.route("/login")
def login():
    nxt = request.args.get("next", "/")
    # ruleid: vigil-python-open-redirect
    return redirect(nxt)


@app.route("/go/<target>")
def go(target):
    # ruleid: vigil-python-open-redirect
    return redirect("https://" + target)


@app.route("/profile")
def profile():
    # ok: vigil-python-open-redirect
    return redirect(url_for("user", name=request.args.get("name")))


def logout(request):
    nxt = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={"example.com"}):
        nxt = "/"
    # ok: vigil-python-open-redirect
    return redirect(nxt)
