import os
import shlex
import subprocess


def ping(host):
    # ruleid: vigil-python-subprocess-shell-injection
    subprocess.run("ping -c 1 " + host, shell=True)
    # ruleid: vigil-python-subprocess-shell-injection
    subprocess.check_output(f"dig {host}", shell=True)
    # ok: vigil-python-subprocess-shell-injection
    subprocess.run(["ping", "-c", "1", host])
    # ok: vigil-python-subprocess-shell-injection
    subprocess.run("uptime", shell=True)
    # ok: vigil-python-subprocess-shell-injection
    subprocess.run("ping -c 1 " + shlex.quote(host), shell=True)


def remove(path):
    # ruleid: vigil-python-os-system-injection
    os.system("rm -rf " + path)
    # ok: vigil-python-os-system-injection
    os.system("sync")
    # ok: vigil-python-os-system-injection
    os.system("rm -rf " + shlex.quote(path))
    # ruleid: vigil-python-os-system-injection
    os.popen(f"ls {path}")
