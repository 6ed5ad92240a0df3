import ssl

import jwt
import requests

SECRET = "change-me"


def fetch(url):
    # ruleid: vigil-python-tls-verify-disabled
    return requests.get(url, timeout=5, verify=False)


def fetch_internal(url):
    # ok: vigil-python-tls-verify-disabled
    return requests.get(url, timeout=5, verify="/etc/ssl/internal-ca.pem")


def context():
    # ruleid: vigil-python-tls-verify-disabled
    return ssl._create_unverified_context()


def safe_context():
    # ok: vigil-python-tls-verify-disabled
    return ssl.create_default_context()


def current_user(token):
    # ruleid: vigil-python-jwt-unverified
    claims = jwt.decode(token, options={"verify_signature": False})
    return claims["sub"]


def current_user_any_alg(token):
    # ruleid: vigil-python-jwt-unverified
    return jwt.decode(token, SECRET, algorithms=["HS256", "none"])


def current_user_safe(token):
    # ok: vigil-python-jwt-unverified
    return jwt.decode(token, SECRET, algorithms=["HS256"])


def audience(token):
    # ok: vigil-python-jwt-unverified
    return jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_aud": False})
