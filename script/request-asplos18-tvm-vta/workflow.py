"""ck run script:request-asplos18-tvm-vta --quiet: the ReQuEST workflow of .cm/meta.json."""


def run(i):
    from ckrequest.ck.workflows import run_script

    return run_script(i, __file__)
