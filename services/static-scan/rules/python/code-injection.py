import ast


def calculate(expression):
    # ruleid: vigil-python-eval-injection
    return eval(expression)


def run_snippet(source, scope):
    # ruleid: vigil-python-eval-injection
    exec(source, scope)


def constant():
    # ok: vigil-python-eval-injection
    return eval("1 + 1")


def literal(text):
    # ok: vigil-python-eval-injection
    return ast.literal_eval(text)
