import json
import pickle

import yaml


def read_config(text):
    # ruleid: vigil-python-unsafe-yaml-load
    return yaml.load(text)


def read_config_loader(text):
    # ruleid: vigil-python-unsafe-yaml-load
    return yaml.load(text, Loader=yaml.Loader)


def read_config_safely(text):
    # ok: vigil-python-unsafe-yaml-load
    return yaml.load(text, Loader=yaml.SafeLoader)


def restore(blob):
    # ruleid: vigil-python-pickle-load
    return pickle.loads(blob)


def restore_file(fh):
    # ruleid: vigil-python-pickle-load
    return pickle.load(fh)


def restore_json(blob):
    # ok: vigil-python-pickle-load
    return json.loads(blob)


def dump(obj):
    # ok: vigil-python-pickle-load
    return pickle.dumps(obj)


def read_config_safe_load(text):
    # ok: vigil-python-unsafe-yaml-load
    return yaml.safe_load(text)
