import re

# ruleid: vigil-python-redos
EMAIL = re.compile(r"^([a-zA-Z0-9_.-]+)+@example\.com$")


def is_words(text):
    # ruleid: vigil-python-redos
    return re.match(r"^(\w+\s*)*$", text)


# ok: vigil-python-redos
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def digits(text):
    # ok: vigil-python-redos
    return re.findall(r"(\d+)", text)
