"""``wicnews`` with test names resolved in this process only (see ``tests/hostile.py``).

TEST_HOSTS: a Python dict literal, name -> list of addresses, one per lookup (the last one
repeats: a list of two is DNS rebinding). TEST_PUBLIC: loopback addresses that count as
public addresses here (a stand-in for the internet on a machine without one).
"""

import ast
import os
import socket
import sys

HOSTS = {k.lower(): list(v) for k, v in ast.literal_eval(os.environ.get("TEST_HOSTS", "{}")).items()}
PUBLIC = set(ast.literal_eval(os.environ.get("TEST_PUBLIC", "[]")))
_real_getaddrinfo = socket.getaddrinfo


def _getaddrinfo(host, port, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    answers = HOSTS.get((name or "").lower().rstrip("."))
    if answers:
        name = answers.pop(0) if len(answers) > 1 else answers[0]
    return _real_getaddrinfo(name, port, *args, **kwargs)


socket.getaddrinfo = _getaddrinfo  # before Twisted binds it

from wicnews import urls  # noqa: E402

_real_is_public = urls.is_public_address
urls.is_public_address = lambda address: str(address) in PUBLIC or _real_is_public(address)

from wicnews.cli import main  # noqa: E402

if __name__ == "__main__":  # extraction workers (forkserver) import this module again: no second crawl there
    sys.exit(main(sys.argv[1:]))
