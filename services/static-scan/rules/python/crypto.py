import hashlib
import random
import secrets
import string


def store_user(db, username, password):
    # ruleid: vigil-python-weak-password-hash
    digest = hashlib.md5(password.encode()).hexdigest()
    db.save(username, digest)


def check(user, pwd):
    # ruleid: vigil-python-weak-password-hash
    return user.hash == hashlib.sha1(pwd.encode()).hexdigest()


def etag(body):
    # ok: vigil-python-weak-password-hash
    return hashlib.md5(body).hexdigest()


def derive(password, salt):
    # ok: vigil-python-weak-password-hash
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 600_000)


def new_session(user):
    # ruleid: vigil-python-insecure-random
    session_id = "".join(random.choice(string.ascii_letters) for _ in range(32))
    return session_id


def make_reset_token():
    # ruleid: vigil-python-insecure-random
    return str(random.randint(100000, 999999))


def pick_colour():
    # ok: vigil-python-insecure-random
    colour = random.choice(["red", "green", "blue"])
    return colour


def make_api_key():
    # ok: vigil-python-insecure-random
    return secrets.token_urlsafe(32)
