import sqlite3

from django.http import JsonResponse
from flask import Flask, request

app = Flask(__name__)
db = sqlite3.connect("app.db")


@app.route("/users")
def users():
    name = request.args.get("name", "")
    cur = db.cursor()
    # ruleid: vigil-python-sql-injection
    cur.execute("SELECT * FROM users WHERE name = '" + name + "'")
    # ok: vigil-python-sql-injection
    cur.execute("SELECT * FROM users WHERE name = ?", (name,))
    return {"rows": cur.fetchall()}


@app.route("/orders/<order_id>")
def order(order_id):
    cur = db.cursor()
    # ruleid: vigil-python-sql-injection
    cur.execute(f"SELECT * FROM orders WHERE id = {order_id}")
    # ok: vigil-python-sql-injection
    cur.execute("SELECT * FROM orders WHERE id = %d" % int(order_id))
    return {}


def search(request):
    term = request.GET["q"]
    # ruleid: vigil-python-sql-injection
    rows = Product.objects.raw("SELECT * FROM product WHERE title LIKE '%%%s%%'" % term)
    # ok: vigil-python-sql-injection
    rows = Product.objects.raw("SELECT * FROM product WHERE title LIKE %s", [term])
    return JsonResponse({"n": len(list(rows))})


def report(cur, table):
    # ok: vigil-python-sql-injection
    cur.execute("SELECT count(*) FROM " + table)
