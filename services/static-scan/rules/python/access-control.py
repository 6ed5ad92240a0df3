from flask import Blueprint, Flask, abort, request
from flask_login import current_user, login_required

app = Flask(__name__)
admin = Blueprint("admin", __name__)
ALLOWED_FIELDS = {"display_name", "bio"}


# ruleid: vigil-python-admin-route-without-auth
@app.route("/admin/users/<int:user_id>/delete", methods=["POST"])
def delete_user(user_id):
    User.query.filter_by(id=user_id).delete()
    return "", 204


# ruleid: vigil-python-admin-route-without-auth
@admin.get("/api/admin/settings")
def admin_settings():
    return {"settings": load_settings()}


# ok: vigil-python-admin-route-without-auth
@app.route("/admin/reports")
@login_required
def reports():
    return {"reports": []}


# ok: vigil-python-admin-route-without-auth
@app.route("/admin/audit")
def audit():
    if not current_user.is_admin:
        abort(403)
    return {"audit": []}


@app.route("/profile", methods=["POST"])
def update_profile():
    user = current_user
    for key, value in request.json.items():
        # ruleid: vigil-python-mass-assignment
        setattr(user, key, value)
    for key, value in request.json.items():
        if key in ALLOWED_FIELDS:
            # ok: vigil-python-mass-assignment
            setattr(user, key, value)
    return {}


def signup(request):
    # ruleid: vigil-python-mass-assignment
    user = User.objects.create(**request.POST.dict())
    form = SignupForm(request.POST)
    form.is_valid()
    # ok: vigil-python-mass-assignment
    User.objects.create(**form.cleaned_data)
    return user
