"""One ``ast`` parse and one visitor pass per Python file, collecting the facts every rule reads.

Facts are calls (resolved callee, where they run, folded string arguments, labels of the values
flowing in), string constants, class definitions (for ``cmdclass`` overrides), environment reads and
payloads (strings that reach ``exec``/``eval`` and fold to code, analysed again as a module).
Files that do not parse (Python 2, broken code) go through ``tokens.collect_tokens`` instead.
"""

from __future__ import annotations

import ast
import bisect
import codecs
import contextlib
import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pipvet.core.analysis.facts.dataflow import (
    BUILTIN_ALIASES,
    BUILTIN_NAMES,
    DECODER_NAMES,
    NO_LABELS,
    Folder,
    Scope,
    file_name,
)
from pipvet.core.analysis.facts.namespace import import_stops_at
from pipvet.core.analysis.facts.syntax import code_text, parse_python

if TYPE_CHECKING:
    from pipvet.core.analysis.facts.dataflow import Value
    from pipvet.core.analysis.facts.setup_reach import SetupReach

UNKNOWN = "?"  # the resolved name of a value of unknown type (a receiver: "?.write")
WHERE_MODULE = "module"  # module level: runs on import (or on install for setup.py)
WHERE_FUNCTION = "function"  # inside a def: runs only when called
WHERE_MAIN = "main"  # under `if __name__ == "__main__"`
WHERE_MAINTAINER = "maintainer"  # under `if sys.argv[-1] == "publish"` in module-level code
MODULE_CALLER = "<module>"
MAIN_CALLER = "<main>"  # the calls of ``if __name__ == "__main__":``, when run as a script
# Calls that run a function they are given (soon, or at interpreter exit) without the caller's help
RUNS_CALLBACK = frozenset(
    {
        "threading.Thread",
        "threading.Timer",
        "multiprocessing.Process",
        "atexit.register",
        "_thread.start_new_thread",
    }
)

# Where the function a callback runner starts is given: (its position, the position where its
# arguments start, or None when they come as an ``args=`` sequence)
CALLBACK_SLOTS: dict[str, tuple[int, int | None]] = {
    "threading.Thread": (1, None),
    "threading.Timer": (1, None),
    "multiprocessing.Process": (1, None),
    "atexit.register": (0, 1),
    "_thread.start_new_thread": (0, None),
}
# Calls that run their first argument as a command or as code: a function passing its parameter
# to one of them runs what its callers give it
RUN_SINKS = (
    "os.system",
    "os.popen",
    "os.startfile",
    "os.exec",
    "os.spawn",
    "subprocess.",
    "pty.spawn",
    "asyncio.create_subprocess",
)
RUN_CODE = frozenset({"exec", "eval"})
# labels worth following through a helper that runs its parameter (what the reader cannot see)
FOLLOWED_LABELS = frozenset({"decoded", "download", "remote", "deciphered"})
HTTP_CLIENT = "http-client"  # an opener, session or pool: its fetches return downloaded bytes
SOCKET = "socket"  # a socket made here: its send/sendall/sendto/connect are network calls
SOCKET_CALLS = frozenset({"send", "sendall", "sendto", "sendmsg", "connect", "connect_ex"})
# HTTP calls that send what they are given, and the arguments that carry it (not the address)
SEND_SINKS = frozenset(
    {
        "requests.post", "requests.put", "requests.patch", "httpx.post", "httpx.put",
        "httpx.patch", "urllib.request.urlopen", "urllib.request.Request",
    }
)  # fmt: skip
SEND_BODY_KWARGS = frozenset({"data", "json", "files", "params", "headers", "content"})
# labels a helper that sends its parameter is followed for: secrets read from where they are
# kept and the host's identity (not a value merely named like a wallet's seed: an end-to-end
# encrypting client seals what it sends with one)
SENT_THROUGH_HELPERS = frozenset({"secret", "env-dump", "fingerprint", "home"})
MAILER = "mailer"  # an SMTP connection made here: what its sendmail/send_message send leaves
MAIL_SENDS = frozenset({"sendmail", "send_message"})
# a socket of the AF_UNIX family: a file on this machine, for talking to a local process; its
# calls are named ``socket.unix.*`` and reach no network
LOCAL_SOCKET = "local-socket"
MEMORY_BUFFER = "memory-buffer"  # an io.BytesIO or io.StringIO made here
_SINK_HINTS = ("system", "popen", "Popen", "subprocess", "exec", "eval", "spawn", "startfile")
# ("execute", a database cursor's method on most lines of an ORM, names no sink)
_SINK_HINT = re.compile("|".join(map(re.escape, _SINK_HINTS)).replace("exec", "exec(?!ut)"))


def _offsets(text: str, word: str) -> Iterator[int]:
    """Every offset of ``word`` in ``text`` (``str.find``, several times faster than a regex)."""
    at = text.find(word)
    while at >= 0:
        yield at
        at = text.find(word, at + 1)


def _lines_with(text: str, words: tuple[str, ...]) -> list[int]:
    """Numbers (from 1) of the lines of ``text`` where one of ``words`` occurs, sorted."""
    return _line_numbers(text, [at for word in words for at in _offsets(text, word)])


def _line_numbers(text: str, offsets: list[int]) -> list[int]:
    """The distinct line numbers (from 1) of ``offsets`` in ``text``, sorted."""
    lines: list[int] = []
    line, last = 1, 0
    for at in sorted(offsets):
        line += text.count("\n", last, at)
        last = at
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def _spans_a_line(node: ast.stmt, lines: list[int]) -> bool:
    """One of ``lines`` (sorted numbers) lies within the statement."""
    i = bisect.bisect_left(lines, node.lineno)
    return i < len(lines) and lines[i] <= (node.end_lineno or node.lineno)


def sink_hint_lines(text: str) -> list[int]:
    """Numbers (from 1) of the lines of ``text`` (``code_text``: breaks are ``\\n``) where
    ``_SINK_HINT`` matches: the text is searched once per hint word (``str.find``, several times
    faster than the alternation; most files name none), not line by line (no hint spans a line
    break, so the lines are the same)."""
    found = [
        at
        for word in _SINK_HINTS
        for at in _offsets(text, word)
        if word != "exec" or text[at + 4 : at + 6] != "ut"  # "execute": see _SINK_HINT
    ]
    return _line_numbers(text, found)


# builtins that only tell what kind of thing a value is: given a lookup's result, they call nothing
TYPE_TESTS = frozenset({"callable", "isinstance", "issubclass", "type", "id", "hash", "bool"})


def runs_argument(name: str | None) -> bool:
    """A call that runs its first argument as a command line or as Python code."""
    return name is not None and (name in RUN_CODE or name.startswith(RUN_SINKS))


BUILTINS = frozenset(
    [
        "exec",
        "eval",
        "compile",
        "__import__",
        "open",
        "getattr",
        "execfile",
        "input",
        "chr",
        "ord",
        "map",
        "globals",
        "locals",
        "vars",
        "setattr",
        "delattr",
        "breakpoint",
        "memoryview",
    ]
)
WATCHED_METHODS = frozenset(
    [
        "send",
        "sendall",
        "sendto",
        "connect",
        "recv",
        "write",
        "writelines",
        "post",
        "put",
        "request",
        "urlopen",
        "read",
        "read_text",
        "read_bytes",
        "write_text",
        "write_bytes",
        "get",
        "getenv",
        "system",
        "popen",
        "decode",
        "decompress",
        "loads",
        "execute",
        "run",
        "call",
        "Popen",
        "check_output",
        "check_call",
    ]
)

# Calls whose arguments' labels matter (process, network, dynamic code); others skip that work.
SINK_ROOTS = frozenset(
    [
        "os",
        "nt",
        "posix",
        "subprocess",
        "socket",
        "urllib",
        "urllib2",
        "urllib3",
        "requests",
        "httpx",
        "aiohttp",
        "http",
        "httplib",
        "ftplib",
        "smtplib",
        "dns",
        "pycurl",
        "websocket",
        "websockets",
        "cloudscraper",
        "asyncio",
        "pty",
        "commands",
        "win32api",
        "marshal",
        "pickle",
        "cPickle",
        "dill",
        "types",
        "runpy",
        "imp",
        "ctypes",
        "discord_webhook",
        "dhooks",
        "telnetlib",
        "paramiko",
        "wget",
        "builtins",
        "?",
    ]
)

# Modules whose calls are worth recording (every sink module, plus decoders, files, host
# identity, clipboard, keyloggers...); other calls are skipped to keep facts small.
WATCHED_ROOTS = (SINK_ROOTS - {"?"}) | frozenset(
    [
        "Crypto",
        "Cryptodome",
        "PIL",
        "Tkinter",
        "_winreg",
        "base64",
        "binascii",
        "browser_cookie3",
        "browsercookie",
        "bytes",
        "bz2",
        "clipboard",
        "codecs",
        "cryptography",
        "discord",
        "distutils",
        "dropbox",
        "getpass",
        "git",
        "glob",
        "gzip",
        "importlib",
        "io",
        "json",
        "keyboard",
        "lzma",
        "mechanize",
        "multiprocessing",
        "pathlib",
        "pip",
        "platform",
        "psutil",
        "pyautogui",
        "pynput",
        "pyperclip",
        "random",
        "setuptools",
        "shutil",
        "sqlite3",
        "str",
        "string",
        "sys",
        "telebot",
        "telegram",
        "tempfile",
        "threading",
        "time",
        "tkinter",
        "uuid",
        "webbrowser",
        "win32clipboard",
        "win32con",
        "win32crypt",
        "winreg",
        "wmi",
        "zipfile",
        "zlib",
    ]
)
SINK_BUILTINS = frozenset({"exec", "eval", "compile", "execfile", "__import__"})
DECODE_METHODS = frozenset(
    [
        "decrypt",
        "b64decode",
        "b32decode",
        "b85decode",
        "a85decode",
        "decodebytes",
        "decodestring",
        "unhexlify",
        "fromhex",
        "decompress",
    ]
)
# A name that *is* a wallet secret (``private_key``, ``my_mnemonic``), not one that only names
# something about it (``private_key_path``, ``mnemonic_length``): the secret word ends the name.
WALLET_SECRET = re.compile(
    r"(private_?key|priv_?key|mnemonic|seed_?phrase|wallet_?key|(mnemonic|seed|recovery)_?"
    r"(phrase|words?))s?(_?(hex|bytes|str|text|b58))?$",
    re.I,
)
# A name that *is* a credential (``access_key``, ``config.secret_key``, ``password``), not one
# about it (``token_path``, ``password_prompt``): the credential word ends the name.
CREDENTIAL_NAME = re.compile(
    r"(secret|password|passwd|passphrase|token|access_?key|secret_?key|api_?key|private_?key|"
    r"credentials?|cookies?)$",
    re.I,
)
CREDENTIAL_LABEL = "credential-name"
# labels a value gets from its name alone (``api_token``, ``private_key``), not from where it
# was read
NAMED_SECRET_LABELS = frozenset({CREDENTIAL_LABEL, "wallet-secret"})
# keyword arguments that authenticate a request to its destination (not what is sent there)
AUTH_KWARGS = frozenset({"headers", "auth", "cookies"})
FILE_READS = frozenset({"read_text", "read_bytes", "open"})  # Path(...).open() is a file too
TRIVIAL_BLOB = 8  # decoding a known constant shorter than this reveals no hidden code
BIG_LITERAL = 64  # assignments of larger literal containers carry no labels worth tracking

# The request being served by a web framework: its content comes from whoever connects
WEB_REQUESTS = ("flask.request.", "bottle.request.", "quart.request.")
ENV_GETTERS = frozenset({"os.getenv", "os.environ.get", "posix.environ.get", "nt.environ.get"})
ENVIRONS = frozenset({"os.environ", "posix.environ", "nt.environ"})
# an attribute resolves to a name ending with that attribute: ``x.get`` may be a getter of the
# environment, ``x.items`` never (the getter check spares resolving it)
_ENV_GETTER_ATTRS = frozenset(g.rsplit(".", 1)[-1] for g in ENV_GETTERS)
_ENVIRON_ATTRS = frozenset(e.rsplit(".", 1)[-1] for e in ENVIRONS)
# Environment variables that configure a program (proxies, certificates, logging, locale...)
# or describe the toolchain a build targets (CUDA_VERSION, CUDA_HOME, ROCM_ROOT, TARGET_ARCH,
# ZIG_TRIPLE, CARGO_BUILD_TARGET, FODB_MACHINE and FODB_SYSTEM overriding platform.machine()
# and .system()), or the cloud region a client talks to (AWS_REGION: where, not who); HOME itself
# is where the user's files are
CONFIG_ENV = re.compile(
    r"(proxy|ca_?bundle|ca_?certs?|ssl|tls|cert_?(file|dir)|timeout|debug|verbose|log_?level|"
    r"^lang$|^lc_|^term$|color|^pager$|^editor$|^columns$|^lines$|^tz$|^no_proxy$|"
    r"^version$|_(version|home|root|arch|machine|system)$|(^|_)(region|triple|target|platform)$|"
    # the name of something the user configured (``CUSTOM_NAME``, ``BUCKET_NAME``), not the
    # name of a person, an account or this host (``USER_NAME``, ``GIT_AUTHOR_NAME``)
    r"(?<!user)(?<!host)(?<!computer)(?<!log)(?<!login)(?<!account)(?<!author)(?<!committer)"
    r"(?<!full)(?<!real)(?<!machine)(?<!node)(?<!domain)(?<!owner)_name$)",
    re.I,
)
# an environment variable named as an address: where to connect, as the user configured it
ENV_VARIABLE = re.compile(r"[A-Z_][A-Z0-9_]*")  # how environment variables are named
ADDRESS_ENV = re.compile(r"(^|_)(url|uri|endpoint|host)$", re.I)
# calls whose first argument (or ``url=``) is the address they connect to
URL_FIRST_ROOTS = ("requests.", "httpx.", "aiohttp.", "urllib3.")
# how a request authenticates itself
AUTH_KWARGS = frozenset({"headers", "auth"})
# string methods whose result names the same place as their subject (``url.rstrip("/")``)
SAME_PLACE_METHODS = frozenset({"rstrip", "strip", "lstrip", "lower", "removesuffix"})
# Keyword arguments that configure a transport or a child process rather than carry what is sent
TRANSPORT_KWARGS = frozenset(
    {"proxies", "proxy", "verify", "cert", "timeout", "trust_env", "mounts", "transport", "limits"}
    | {"env", "cwd", "stdin", "stdout", "stderr", "executable"}
)
DECODED_PARAM = "decoded-param"  # decoding the enclosing function's own parameter
# what a peer's bytes become when read as a number: a value, not a command to run
NUMBER_CASTS = frozenset({"int", "float", "bool", "len", "complex"})
# calls whose first argument is a command list, its first item the program to run
PROGRAM_RUNNERS = (
    "subprocess.",
    "os.exec",
    "os.spawn",
    "os.posix_spawn",
    "asyncio.create_subprocess",
)
# where a program's path came from: not data it sends (see _sent_labels)
PROGRAM_PATH_LABELS = frozenset({"secret", "env-dump", "home", "fingerprint", "credential-name"})
DECIPHERED = "deciphered"  # text run through a custom cipher (XOR, substitution, chr arithmetic)
# beside "download": the address fetched is written in (a constant, or a constant start), hidden
# (decoded) or itself fetched; without it, the address is given at run time (a parameter, the
# configuration, the user): what is fetched is what the caller asks for
FIXED_SOURCE = "fixed-source"
# labels of text that may be code the reader cannot see
HIDDEN_CODE_LABELS = frozenset({"decoded", "download", DECODED_PARAM, DECIPHERED, FIXED_SOURCE})
# serialisers whose output is a data record, never a script (marshal.dumps is not: code objects)
DATA_DUMPS = frozenset(
    {"pickle.dumps", "cPickle.dumps", "json.dumps", "yaml.dump", "yaml.safe_dump"}
)
FILE_OPENERS = frozenset({"open", "io.open", "codecs.open"})
# path builders whose result ends in their last argument, and those that keep a path's name
PATH_JOINS = frozenset({"os.path.join", "posixpath.join", "ntpath.join"})
PATH_KEEPERS = frozenset(
    {
        "os.path.abspath",
        "os.path.realpath",
        "os.path.normpath",
        "os.path.expanduser",
        "os.fspath",
        "str",
    }
)


# calls that only work on local files: a home path reaching them sends nothing anywhere
_LOCAL_FILE_ROOTS = frozenset({"os", "shutil", "open", "io", "glob", "pathlib", "tempfile"})
# names of files that hold someone's secrets wherever they are: never a package's own state
SECRET_FILE_NAME = re.compile(
    r"id_[rd]sa|id_ecdsa|id_ed25519|credential|config|\.netrc|\.pypirc|\.npmrc|known_hosts|"
    r"authorized_keys|history|cookie|login|local state|web data|wallet|keychain|key\d*\.db|"
    r"cert\d*\.db|\.kdbx|\.pem|\.key$|\.p12|\.pfx|token|secret|passw|shadow|passwd|\.env$|"
    r"keystore|key_data|\.gnupg|\.ldb$|\.sqlite",
    re.I,
)
# the expressions a path that does not fold is built with, and the last names of the calls
_PATH_NODES = frozenset({ast.Call, ast.BinOp, ast.JoinedStr, ast.Name})
_PATH_CALL_NAMES = frozenset(
    {n.rpartition(".")[2] for n in PATH_JOINS | PATH_KEEPERS} | {"Path", "PurePath"}
)


def _separated(text: str) -> bool:
    return "/" in text or "\\" in text


# attributes of an HTTP response that say how the download went, not what it holds
RESPONSE_META = frozenset(
    {"status_code", "status", "ok", "reason", "headers", "elapsed", "is_success", "is_error"}
)
# builtins that run or reach code: a name list holding one hides what a lookup by it calls
CODE_BUILTINS = frozenset(
    {"exec", "eval", "compile", "__import__", "execfile", "open", "getattr", "setattr"}
    | {"globals", "locals", "vars", "input", "breakpoint", "__builtins__", "reload"}
)
# a flag telling a program to read a password or token on standard input (docker, podman and
# helm login, gh auth login, gpg's passphrase on descriptor 0)
PASSWORD_ON_STDIN = re.compile(
    r"--(?:password|passphrase|token|secret)[-_](?:stdin|from[-_]stdin)|--with-token|"
    r"--passphrase-fd(?:=0)?|--password-fd(?:=0)?",
    re.I,
)
# programs whose standard input may be code or commands (shells, interpreters, launchers that
# run another program): no flag makes what they read there data
CODE_READERS = re.compile(
    r"(?:.*/)?(?:(?:ba|z|da|k|c|tc|fi)?sh|cmd|powershell|pwsh|python[\d.w]*|py|pypy[\d.]*|perl|"
    r"ruby|node(?:js)?|deno|bun|php|lua|osascript|[wc]script|mshta|tclsh|wish|g?awk|sed|xargs|"
    r"sudo|su|doas|env|nohup|timeout|nice|setsid|runuser|chroot|script|busybox|ssh|at|batch|"
    r"crontab|eval|exec|source)(?:\.exe)?$",
    re.I,
)
SENT_ON_STDIN = frozenset({"secret", "fingerprint", "env-dump", "home", "wallet-secret"})
PROCESS_NUMBERS = frozenset({"returncode", "pid"})
PATTERN_METHODS = frozenset({"match", "fullmatch", "search", "finditer", "findall"})
# methods whose result is made of their arguments, not of their receiver: a regex match is a
# slice of its subject; what a process answers to ``communicate(data)`` comes from the program and
# the data it is fed, not from the command line it was started with
ARGUMENT_ONLY_METHODS = PATTERN_METHODS | {"communicate"}
# a library's signing methods (``Account.from_key(key).sign_message(msg)``,
# ``account.sign_transaction(tx, key)``): a signature proves the key, it does not hold it
SIGNING_METHODS = frozenset(
    {"sign", "sign_message", "sign_transaction", "sign_typed_data", "sign_hash"}
    | {"signTransaction", "signMessage", "unsafe_sign_hash"}
)
# functions that sign or MAC a message with a key, and where the key is given (position,
# keyword): a token or digest proves the key, it does not hold it (the claims of a JWT it does)
KEYED_SIGNERS = {
    "jwt.encode": (1, "key"),  # PyJWT, jwt.encode(payload, key, algorithm)
    "jose.jwt.encode": (1, "key"),  # python-jose, jwt.encode(claims, key)
    "authlib.jose.jwt.encode": (2, "key"),  # authlib, jwt.encode(header, payload, key)
    "hmac.new": (0, "key"),
    "hmac.digest": (0, "key"),
    # ciphers made with a key: what they encrypt or decrypt holds the data, not the key
    # (finlab decrypts its stored session with a key derived from the machine's id)
    "cryptography.fernet.Fernet": (0, "key"),
    "cryptography.hazmat.primitives.ciphers.aead.AESGCM": (0, "key"),
    "cryptography.hazmat.primitives.ciphers.aead.ChaCha20Poly1305": (0, "key"),
    "cryptography.hazmat.primitives.ciphers.algorithms.AES": (0, "key"),
    "Crypto.Cipher.AES.new": (0, "key"),
    "Cryptodome.Cipher.AES.new": (0, "key"),
    "nacl.secret.SecretBox": (0, "key"),
}
# what a signature made with a key does not carry of it
KEY_LABELS = frozenset({"wallet-secret", CREDENTIAL_LABEL})
# the public part of a key pair (``Account.from_key(key).address``): shown to anyone
PUBLIC_PARTS = frozenset({"address", "public_key", "publicKey", "verifying_key"})
# codecs reading bytes as text that keep ASCII as it is (names as ``codecs.lookup`` gives them)
ASCII_TEXT_CODECS = frozenset({"utf-8", "utf-8-sig", "ascii", "iso8859-1", "cp1252"})
# keywords naming where a request goes
TARGET_KWARGS = frozenset({"url", "host", "address", "endpoint"})
# keywords whose text is documentation: ``click.option("--channel", help="...")``, argparse's
# ``description=``/``epilog=``
DOC_KEYWORDS = frozenset({"help", "description", "epilog"})
PENDING = "@"  # prefix of a placeholder label: what a function defined later returns
DOWNLOAD_TO_FILE = ("urlretrieve", "wget.download")
# calls that read bytes as an archive, to list or unpack its files
ARCHIVE_OPENERS = frozenset(
    {
        "tarfile.open",
        "tarfile.TarFile",
        "tarfile.TarFile.open",
        "zipfile.ZipFile",
        "shutil.unpack_archive",
    }
)
WRITE_METHODS = frozenset({"write", "write_text", "writelines", "write_bytes"})
# name look-ups whose first argument is the host name to resolve
OWN_NAME_LOOKUPS = frozenset(
    {"socket.gethostbyname", "socket.gethostbyname_ex", "socket.getaddrinfo", "socket.getfqdn"}
)
MEMORY_WRITES = "io.BytesIO."  # the name of a write into a buffer in memory


def writes_file(name: str) -> bool:
    """``f.write``, ``Path.write_bytes``...: writing to a file (not to the terminal, nor into a
    buffer in memory)."""
    return name.rpartition(".")[2] in WRITE_METHODS and not name.startswith(
        ("sys.std", MEMORY_WRITES)
    )


ROUND_TRIP_LOADS = frozenset({"pickle.loads", "cPickle.loads", "dill.loads", "marshal.loads"})

# Calls whose result carries a label, by resolved name.
# calls that hand back what a command printed, and commands that print who and where this is
COMMAND_OUTPUTS = frozenset(
    {"os.popen", "subprocess.check_output", "subprocess.getoutput", "subprocess.run"}
    | {"subprocess.getstatusoutput", "commands.getoutput"}
)
IDENTITY_COMMANDS = frozenset({"id", "whoami", "hostname"})
UNAME_HOST_OPTIONS = frozenset({"-a", "-n", "--all", "--nodename"})
LABEL_SOURCES: dict[str, str] = {
    "os.getenv": "secret",
    "os.environ.get": "secret",
    "os.environ.copy": "env-dump",
    "os.environ.items": "env-dump",
    "os.environ.keys": "env-dump",
    "os.environ.values": "env-dump",
    "getpass.getuser": "fingerprint",
    "os.getlogin": "fingerprint",
    "os.getcwd": "fingerprint",
    "os.uname": "fingerprint",
    "socket.gethostname": "fingerprint",
    "socket.getfqdn": "fingerprint",
    "platform.node": "fingerprint",
    "platform.uname": "fingerprint",
    "platform.platform": "fingerprint",
    # the OS, CPU and release choose a download (``...-{platform.machine()}.tar.gz``): they say
    # what the host is, not who it is
    "platform.system": "platform",
    "platform.release": "platform",
    "platform.version": "platform",
    "platform.machine": "platform",
    "platform.processor": "platform",
    "uuid.getnode": "fingerprint",
    "os.path.expanduser": "home",
    "pathlib.Path.home": "home",
    "win32crypt.CryptUnprotectData": "secret",
    "browser_cookie3.chrome": "secret",
    "browser_cookie3.load": "secret",
    "pyperclip.paste": "secret",
    "urllib.request.urlopen": "download",
    "urllib.urlopen": "download",
    "urllib2.urlopen": "download",
    "requests.get": "download",
    "requests.post": "download",
    "httpx.get": "download",
    "urllib.request.urlretrieve": "download",
    "urllib.urlretrieve": "download",
    "wget.download": "download",
    "socket.socket": SOCKET,
    "smtplib.SMTP": MAILER,
    "smtplib.SMTP_SSL": MAILER,
    "socket.create_connection": SOCKET,
    "ssl.wrap_socket": SOCKET,
    # HTTP clients: what their fetching methods return is downloaded (``opener.open(url)``)
    "urllib.request.build_opener": HTTP_CLIENT,
    "urllib2.build_opener": HTTP_CLIENT,
    "requests.Session": HTTP_CLIENT,
    "requests.session": HTTP_CLIENT,
    "httpx.Client": HTTP_CLIENT,
    "urllib3.PoolManager": HTTP_CLIENT,
    "http.client.HTTPConnection": HTTP_CLIENT,
    "http.client.HTTPSConnection": HTTP_CLIENT,
    "httplib.HTTPConnection": HTTP_CLIENT,
    "httplib.HTTPSConnection": HTTP_CLIENT,
    # buffers in memory: writing to one puts nothing on disk
    "io.BytesIO": MEMORY_BUFFER,
    "io.StringIO": MEMORY_BUFFER,
    "StringIO.StringIO": MEMORY_BUFFER,
    "cStringIO.StringIO": MEMORY_BUFFER,
}
# programs that fetch what they are given (run without a shell, they run none of it)
FETCH_PROGRAMS = frozenset({"curl", "wget", "aria2c", "curl.exe", "wget.exe"})
# the methods of an HTTP client that fetch
CLIENT_FETCHES = frozenset({"open", "get", "post", "request", "urlopen"})
# ... and those that send (``session.post(url, data=...)``, ``conn.request("POST", "/", body)``):
# named as a session's (``CLIENT_METHOD``), network calls like ``requests.post``
CLIENT_SENDS = CLIENT_FETCHES | {"put", "patch", "delete", "head", "options", "send"}
CLIENT_METHOD = "requests.Session."
# words of the text of a module that makes an HTTP client (``LABEL_SOURCES``' HTTP_CLIENT)
CLIENT_MAKER_WORDS = ("opener", "ession", "Client", "PoolManager", "Connection")


@dataclass(frozen=True)
class CallFact:
    """One call: what it calls, where it runs and what flows into it."""

    name: str  # resolved dotted name ("os.system", "exec", "?.send" for unknown receivers)
    line: int
    where: str  # WHERE_MODULE / WHERE_FUNCTION / WHERE_MAIN
    func: str | None  # enclosing function
    class_bases: tuple[str, ...]  # resolved bases of the enclosing class, if any
    args: tuple[str | None, ...]  # folded positional args as text (None when unknown)
    kwargs: tuple[tuple[str, str | None], ...]
    labels: frozenset[str]  # labels of values flowing into the arguments
    text: str  # short source excerpt
    computed_first_arg: bool  # first argument is not a literal
    # the constant start of a first argument that does not fold as a whole (f"{URL}?{query}")
    first_arg_prefix: str = ""
    # fire and forget: the result is thrown away and every error swallowed (``try: post(...)
    # except: pass``), what code that must not be noticed does
    quiet: bool = False
    # runs only on a condition: inside an ``if`` branch or an ``except`` handler of its function
    # (or of module-level code)
    guarded: bool = False
    # a process started from a command list (``[docker, "login", ...]``): its program (the
    # first item) as written (its folded text, or its source when it does not fold), and the
    # labels of that item; "" otherwise
    program: str = ""
    program_labels: frozenset[str] = frozenset()
    # a file opened (``FILE_OPENERS``) by a path that does not fold but ends in a constant name
    # (``os.path.join(HERE, "pkg", "version.py")``): that name, else ""
    path_name: str = ""
    # the arms of ``if`` chains the call sits in within its function: (chain, arm) pairs
    arms: tuple[tuple[int, int], ...] = ()
    # of a sink's call sending host identity, labels of where it goes: its first argument, a
    # ``url=``/``host=``, and the object a method is called on (``conn.request(...)`` with
    # ``conn = HTTPSConnection(b64decode(h))``); what is sent is the rest of ``labels``
    target_labels: frozenset[str] = frozenset()
    # of a call that carries labels, the constant start of the address it is given (its first
    # argument or ``url=``, through ``Request(url)`` and names bound to one), and the local
    # function that address was handed to first when it is one (``urlopen(_request(url))``):
    # the address counts only if that function builds a request for it (``request_helpers``)
    address: str = ""
    address_via: str = ""

    def excludes(self, other: CallFact) -> bool:
        """The two calls sit in different arms of one ``if`` chain: when one runs, the other
        does not (in one run of their function)."""
        if not self.arms or not other.arms:
            return False
        mine = dict(self.arms)
        return any(chain in mine and mine[chain] != arm for chain, arm in other.arms)

    @property
    def opened_name(self) -> str:
        """The name of the file an opener opens: of its folded path, or ``path_name``; ""
        when the name is computed at run time."""
        return file_name(self.args[0]) if self.args and self.args[0] else self.path_name


@dataclass(frozen=True)
class ClassFact:
    name: str
    bases: tuple[str, ...]
    line: int
    methods: tuple[str, ...]


@dataclass
class ModuleFacts:
    """Everything one pass over a Python file collected."""

    parsed: bool
    calls: list[CallFact] = field(default_factory=list)
    strings: list[tuple[int, str]] = field(default_factory=list)  # (line, text) incl. folded
    classes: list[ClassFact] = field(default_factory=list)
    imports: set[str] = field(default_factory=set)
    imported_names: set[str] = field(default_factory=set)  # "mod.name" of `from mod import name`
    env_reads: list[tuple[int, str, bool]] = field(default_factory=list)  # (line, where, whole)
    payloads: list[tuple[int, str]] = field(default_factory=list)  # code reaching exec/eval
    string_scope: dict[int, str | None] = field(default_factory=dict)  # line -> function
    literals: set[str] = field(default_factory=set)  # string constants as written (16+ chars)
    decoded: list[tuple[int, str]] = field(default_factory=list)  # (line, decoder) of folded blobs
    run_on_load: frozenset[str] = frozenset()  # functions called by module-level code
    call_edges: dict[str, set[str]] = field(default_factory=dict)  # caller -> local callees
    # caller -> imported functions it calls, as dotted names (relative ones start with dots):
    # the engine follows these into the artifact's other modules (cross-module run-on-load)
    external_calls: dict[str, set[str]] = field(default_factory=dict)
    # the same, for calls made on every run of the caller (not inside an `if` branch or an
    # `except` handler), and the functions of run_on_load reached only through such calls: one
    # outside firm_on_load runs on load only on a condition (a missing import, an old version)
    firm_edges: dict[str, set[str]] = field(default_factory=dict)
    firm_external: dict[str, set[str]] = field(default_factory=dict)
    firm_on_load: frozenset[str] = frozenset()
    # a setup.py's dead functions and maintainer commands, read from the same tree
    setup_reach: SetupReach | None = None
    returns: dict[str, frozenset[str]] = field(default_factory=dict)  # function -> labels returned
    dynamic_builtins: list[tuple[int, str]] = field(default_factory=list)  # (line, where)
    module_statements: int = 0  # top-level statements other than imports/defs/docstrings/setup()
    setup_kwargs: set[str] = field(default_factory=set)
    # (line, function, text) of text written to a file (f.write, Path.write_text...)
    written: list[tuple[int, str | None, str]] = field(default_factory=list)
    # parts the walk could not follow: (line, why); the engine reports each as a finding
    incomplete: list[tuple[int, str]] = field(default_factory=list)
    # the line where every import of the module stops with NameError before anything ran, and
    # the modules imported before it (``namespace.import_stops_at``): code for a namespace a
    # caller prepares
    import_stops: tuple[int, frozenset[str]] | None = None
    # the functions (None: module level) that open downloaded bytes as an archive
    # (``tarfile.open(fileobj=BytesIO(urlopen(url).read()))``): what they fetch is unpacked
    unpacks_download: set[str | None] = field(default_factory=set)
    # local functions that return a request object made for their first parameter
    # (``def _request(url, token): return urllib.request.Request(url, headers=...)``)
    request_helpers: set[str] = field(default_factory=set)


def _excerpt(source_lines: list[str], line: int, end: int | None = None) -> str:
    """The source of a call (up to 6 lines, whitespace collapsed, at most 300 characters)."""
    if 0 < line <= len(source_lines):
        last = min(end or line, line + 5, len(source_lines))
        text = " ".join(" ".join(source_lines[i - 1].split()) for i in range(line, last + 1))
        return text if len(text) <= 300 else text[:297] + "..."
    return ""


# setup.py commands only a maintainer runs (``python setup.py publish``): never part of an install
MAINTAINER_COMMANDS = frozenset(
    {"publish", "upload", "release", "tag", "deploy", "register", "bump", "sign", "twine"}
    | {"coverage", "test", "lint", "docs"}  # commands a person runs, never an installer
)


_MAINTAINER_WORDS = re.compile(
    rf"(?:^|[-_])(?:{'|'.join(sorted(MAINTAINER_COMMANDS))})(?:$|[-_])", re.I
)


def maintainer_command(word: str) -> bool:
    """A setup.py command only a person types: a maintainer's (``upload``) or one of its
    variants (``publish-test``, ``upload_docs``, ``release-notes``)."""
    word = word.strip().lower()
    return word in MAINTAINER_COMMANDS or _MAINTAINER_WORDS.search(word) is not None


def maintainer_commands(
    test: ast.expr, is_command: Callable[[str], bool] = maintainer_command
) -> list[ast.expr] | None:
    """The sides of ``test`` when it asks whether the command given is a maintainer's
    (``sys.argv[-1] == "publish"``, ``"upload" in sys.argv``, ``sys.argv[1] in ("upload",
    "publish")``, ``sys.argv[-1].startswith("publish")``), else None; ``is_command`` says which
    words are (a prefix, only a maintainer's: ``"b"`` starts ``bdist_wheel``). Only ``==``,
    ``in`` and a prefix test: under ``!=`` or ``not in`` the branch runs on every other command,
    installs too."""
    if (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Attribute)
        and test.func.attr == "startswith"
        and len(test.args) == 1
        and not test.keywords
    ):
        arg = test.args[0]
        prefixes = arg.elts if isinstance(arg, ast.Tuple) else [arg]
        words = [p.value for p in prefixes if isinstance(p, ast.Constant)]
        if (
            prefixes
            and len(words) == len(prefixes)
            and all(isinstance(w, str) and w and maintainer_command(w) for w in words)
        ):
            return [test.func.value]  # what is tested: no install command has such a prefix
        return None
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return None
    if not isinstance(test.ops[0], (ast.Eq, ast.In)):
        return None
    sides = [test.left, *test.comparators]
    words: list[object] = []
    for side in sides:
        if isinstance(side, ast.Constant) and isinstance(side.value, str):
            words.append(side.value)
        elif isinstance(test.ops[0], ast.In) and isinstance(side, (ast.Tuple, ast.List, ast.Set)):
            words += [e.value if isinstance(e, ast.Constant) else None for e in side.elts]
    if not words or not all(isinstance(w, str) and is_command(w) for w in words):
        return None
    return sides


_BLOCKS = (ast.If, ast.Try, ast.With, ast.For, ast.While, getattr(ast, "TryStar", ast.Try))


def _local_callee(func: ast.expr) -> str | None:
    """``f`` for ``f(...)`` and ``self.f(...)``/``cls.f(...)``: a function of this module."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.attr if func.value.id in ("self", "cls") else None
    return None


# request objects made for an address (their first argument or ``url=``)
REQUEST_BUILDERS = frozenset({"urllib.request.Request", "urllib2.Request", "requests.Request"})
LOOPBACK = re.compile(r"localhost|127(?:\.\d{1,3}){3}|\[::1\]", re.I)
_URL_HOST = re.compile(r"(?:https?|wss?)://(\[[0-9a-f:]+\]|[^/:?#@\s\[]+)[:/]", re.I)


def loopback_address(url: str) -> bool:
    """The URL (or its constant start) names this machine's own host, written out in full
    (``http://127.0.0.1:`` or ``http://localhost/``; not ``http://127.0.0.1`` followed by
    anything, nor an address with a user part: ``http://127.0.0.1@host/``)."""
    m = _URL_HOST.match(url)
    return m is not None and LOOPBACK.fullmatch(m.group(1)) is not None


def _url_arg(call: ast.Call) -> ast.expr | None:
    """The address a call is given: its first argument, else its ``url=``."""
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == "url"), None)


def _tuple_places(values: list[ast.expr]) -> int:
    """The length of the tuples a function returns, when every return is a tuple written out
    (no ``*``) and all have one length of two or more; else 0."""
    lengths = {
        len(v.elts)
        if isinstance(v, ast.Tuple) and not any(isinstance(e, ast.Starred) for e in v.elts)
        else 0
        for v in values
    }
    n = lengths.pop() if len(lengths) == 1 else 0
    return n if n >= 2 else 0


def _serialised_name(name: str | None) -> bool:
    return name is not None and name.rpartition(".")[2] == "dumps"


def _attribute_values(module: ast.Module) -> dict[str, list[ast.expr]]:
    """Every value the module assigns to an attribute (``self._code = ...``, a class body's
    ``_code = ...``, ``setattr(obj, "_code", ...)``), by the attribute's name; an augmented or
    unpacked assignment counts as an unknown value."""
    out: dict[str, list[ast.expr]] = {}
    for node in ast.walk(module):
        if isinstance(node, ast.ClassDef):
            for stmt in node.body:  # class attributes: ``_code = b"..."`` in the class body
                targets = stmt.targets if isinstance(stmt, ast.Assign) else []
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    out.setdefault(stmt.target.id, []).append(stmt.value or stmt.target)
                for target in targets:
                    if isinstance(target, ast.Name):
                        out.setdefault(target.id, []).append(stmt.value)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute):
                    out.setdefault(target.attr, []).append(node.value)
                elif isinstance(target, (ast.Tuple, ast.List)):
                    for elt in target.elts:
                        if isinstance(elt, ast.Attribute):
                            out.setdefault(elt.attr, []).append(elt)  # not a dumps call
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(
            node.target, ast.Attribute
        ):
            value = node.value if isinstance(node, ast.AnnAssign) else None
            out.setdefault(node.target.attr, []).append(value or node.target)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and len(node.args) == 3
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            out.setdefault(node.args[1].value, []).append(node.args[2])
    return out


def _chain_links(node: ast.Call) -> list[ast.Call] | None:
    """The calls of a method chain ending in ``node``, outermost first, when it has at least
    ``CHAIN_FLAT`` links (accessors between them, ``.str.replace(...)``, belong to it); None
    for anything shorter, and at once for ``f(x)`` or ``obj.method(x)`` (most calls)."""
    inner = node.func
    if not (isinstance(inner, ast.Attribute) and type(inner.value) is not ast.Name):
        return None
    links = [node]
    while True:
        while isinstance(inner, ast.Attribute):
            inner = inner.value
        if not isinstance(inner, ast.Call):
            break
        links.append(inner)
        inner = inner.func
    return links if len(links) >= CHAIN_FLAT else None


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for an attribute chain on a plain name, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or not parts:
        return None
    return ".".join([node.id, *reversed(parts)])


def _top_functions(
    body: list[ast.stmt],
) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, bool]]:
    """The functions of a module and the methods of its classes (with True for a method)."""
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield stmt, False
        elif isinstance(stmt, ast.ClassDef):
            for sub in stmt.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield sub, True


def _top_defs(body: list[ast.stmt]) -> set[str]:
    """Names of the functions of a module and of the methods of its classes."""
    return {stmt.name for stmt, _ in _top_functions(body)}


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement of ``body``, nested ones (of defs, classes, branches, loops) included,
    without walking expressions: far fewer nodes than ``ast.walk``."""
    todo = list(reversed(body))
    while todo:
        stmt = todo.pop()
        yield stmt
        nested: list[ast.stmt] = []
        for name in ("body", "orelse", "finalbody"):
            part = getattr(stmt, name, None)
            if isinstance(part, list):
                nested.extend(part)
        for handler in getattr(stmt, "handlers", ()):
            nested.extend(handler.body)
        for case in getattr(stmt, "cases", ()):
            nested.extend(case.body)
        todo.extend(reversed(nested))


def _stored_names(
    module: ast.Module, source: str, *, params: bool = True
) -> Iterator[tuple[str, ast.expr | None]]:
    """(name, value) for every name the module stores to: assignments (value given for a plain
    ``name = value``), loop and ``with`` targets, and (``params``) parameters. An assignment
    expression (``:=``) can bind anywhere: then every node is walked."""
    if ":=" in source:
        for node in walk(module):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                yield node.id, None
            elif params and isinstance(node, ast.arg):
                yield node.arg, None
        return
    for stmt in _statements(module.body):
        targets: list[ast.expr] = []
        if isinstance(stmt, ast.Assign):
            if len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                yield stmt.targets[0].id, stmt.value
                continue
            targets = list(stmt.targets)
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
            targets = [stmt.target]
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            targets = [i.optional_vars for i in stmt.items if i.optional_vars is not None]
        elif params and isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = stmt.args
            every = [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]
            for arg in every:
                if arg is not None:
                    yield arg.arg, None
        for target in targets:
            for node in walk(target):
                if isinstance(node, ast.Name):
                    yield node.id, None


_MADE_HERE = re.compile(r"=\s*([^\s(=]+)\(")  # `= Something(`: is Something a local class?


def _instances(module: ast.Module, source: str) -> frozenset[str]:
    """Names that only ever hold an instance of a class of this module (``req = Request()``):
    their method calls are calls of that class's methods."""
    classes = {stmt.name for stmt in module.body if isinstance(stmt, ast.ClassDef)}
    if not classes:
        return frozenset()
    if not any(m.group(1) in classes for m in _MADE_HERE.finditer(source)):
        return frozenset()  # no `name = LocalClass(` anywhere
    made: set[str] = set()
    other: set[str] = set()
    for name, value in _stored_names(module, source):
        local = (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id in classes
        )
        (made if local else other).add(name)
    return frozenset(made - other)


def _resolve_pending(
    returns: dict[str, frozenset[str]], calls: list[CallFact]
) -> tuple[dict[str, frozenset[str]], list[CallFact]]:
    """Placeholders (``@f``: what ``f``, defined later, returns) replaced by those labels."""
    resolved = dict(returns)
    for _ in range(8):  # helpers of helpers: a few rounds reach a fixed point in practice
        changed = False
        for func, labels in resolved.items():
            if any(label.startswith(PENDING) for label in labels):
                new = _substitute(labels, resolved)
                if new != labels:
                    resolved[func] = new
                    changed = True
        if not changed:
            break
    resolved = {
        f: frozenset(x for x in ls if not x.startswith(PENDING)) for f, ls in resolved.items()
    }
    out = [
        dataclasses.replace(
            c,
            labels=_substitute(c.labels, resolved),
            program_labels=_substitute(c.program_labels, resolved),
        )
        if any(label.startswith(PENDING) for label in c.labels | c.program_labels)
        else c
        for c in calls
    ]
    return {f: ls for f, ls in resolved.items() if ls}, out


def _substitute(labels: frozenset[str], returns: dict[str, frozenset[str]]) -> frozenset[str]:
    out: set[str] = set()
    for label in labels:
        if label.startswith(PENDING):
            out |= returns.get(label[len(PENDING) :], _NO_LABELS)
        else:
            out.add(label)
    return frozenset(out)


def _module_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """Import statements of module-level code (in ``if``/``try``/``with`` blocks too, not in
    ``def`` or ``class``), in source order."""
    out: list[ast.Import | ast.ImportFrom] = []
    todo = list(reversed(body))
    while todo:
        stmt = todo.pop()
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            out.append(stmt)
        elif isinstance(stmt, _BLOCKS):
            blocks = [stmt.body, getattr(stmt, "orelse", [])]
            blocks += [h.body for h in getattr(stmt, "handlers", [])]
            blocks.append(getattr(stmt, "finalbody", []))
            for block in reversed(blocks):
                todo.extend(reversed(block))
    return out


def _is_main_guard(node: ast.If) -> bool:
    test = node.test
    if isinstance(test, ast.Compare) and len(test.comparators) == 1:
        left, right = test.left, test.comparators[0]
        names = {getattr(left, "id", None), getattr(right, "id", None)}
        consts = {getattr(left, "value", None), getattr(right, "value", None)}
        return "__name__" in names and "__main__" in consts
    return False


# Labels of what a function of another module returns, by the name it is called with here
# (dotted; relative imports start with dots): the engine's view of the artifact's other modules.
ImportedReturns = Callable[[str], frozenset[str]]


class _Collector(ast.NodeVisitor):
    def __init__(
        self,
        source: str,
        imported: ImportedReturns | None = None,
        own_state: frozenset[str] | None = None,
    ) -> None:
        self.source = source
        # the text names a maker of HTTP clients or of buffers in memory: only then are a
        # method call's receivers asked for those labels (``x.get(...)`` is mostly a dict's)
        self.makes_clients = any(w in source for w in CLIENT_MAKER_WORDS)
        self.makes_buffers = "StringIO" in source or "BytesIO" in source
        self.code = code_text(source)  # line breaks as Python reads them
        self.lines = self.code.split("\n")
        self.imported = imported
        self.facts = ModuleFacts(parsed=True)
        self.module_scope = Scope()
        self.scope = self.module_scope
        self.folder = Folder(self.scope)
        self.func_stack: list[str] = []
        self.class_stack: list[tuple[str, ...]] = []
        self.in_main: str | None = None  # WHERE_MAIN or WHERE_MAINTAINER inside such a branch
        self._labels: dict[int, frozenset[str]] = {}
        self.returns: dict[str, frozenset[str]] = {}  # labels of what local functions return
        # ... and, for a function whose every return is a tuple of one length, of each place
        # (``return proc, url``: ``proc, url = spawn()`` binds each name to its own labels)
        self.tuple_returns: dict[str, tuple[frozenset[str], ...]] = {}
        self.call_edges: dict[str, set[str]] = {}  # caller function -> local names it calls
        # names bound to a written-out collection of string constants (`NAMES = {"len", "min"}`)
        # and loop variables running over one: a name taken from such a list hides nothing
        self.name_lists: set[str] = set()
        self.listed_names: set[str] = set()
        self.relative: dict[str, str] = {}  # local name -> ".mod.name" of a relative import
        self.return_stack: list[list[ast.expr]] = []  # per enclosing def: values it returns
        self.defs: set[str] = set()  # functions and methods defined at the top of the module
        self.module: ast.Module | None = None
        # attribute name -> values assigned to it anywhere (``_attribute_values``; when needed)
        self.attribute_values: dict[str, list[ast.expr]] | None = None
        # names holding instances of a local class (``_instance_names``; worked out when needed)
        self.instance_names: frozenset[str] | None = None
        self.client_attrs: set[str] = set()  # self.X attributes holding an HTTP client
        # module functions that return only an address the user configured (``get_url()``)
        self.address_functions: set[str] = set()
        # local functions -> their positional parameters and those used only as the key a
        # token or digest is signed with (``def encode_jwt(msg, key): return jwt.encode(msg, key)``)
        self.key_params: dict[str, tuple[list[str], frozenset[str]]] = {}
        self.argv_names: set[str] = set()  # module names holding one item of sys.argv
        self.seen_defs: set[str] = set()  # ... whose bodies were visited already
        # local functions that return the command line parsed (``return parser.parse_args()``)
        self.cli_functions: set[str] = set()
        self.depth = 0  # nesting of the node being visited (its own budget, not Python's)
        # local functions (and methods) that run a parameter: name -> (sink, position of the
        # parameter among the call's arguments, its name, constant keywords of the inner call)
        self.lambda_names: dict[int, str] = {}  # id of a lambda -> the name it is bound to
        # helper -> (send call, parameter index, parameter name, the address it sends to)
        self.send_wrappers: dict[str, tuple[str, int, str, ast.expr | None] | None] = {}
        self.send_candidates: dict[
            str, list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, bool]]
        ] = {}
        self.sink_wrappers: dict[
            str, tuple[str, int, str, list[ast.keyword], ast.expr | None] | None
        ] = {}
        self.sink_candidates: dict[
            str, list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, bool]]
        ] = {}
        self.silenced = 0  # inside try blocks whose handlers swallow every error
        self.guarded = 0  # inside if branches and except handlers
        # the arms of the ``if`` chains the code sits in, in its function: (chain, arm) pairs
        self.arms: tuple[tuple[int, int], ...] = ()
        self.chains = 0  # ``if`` chains seen (each chain's number)
        self.loops = 0  # loops the code sits in, in its function (their arms repeat)
        self.statement_call: ast.Call | None = None  # a call whose result is thrown away
        self.tested: set[int] = set()  # calls whose result is only given to TYPE_TESTS
        # the package's own state files under the home folder (``_own_state``): names of files
        # it both writes and reads there. Found by a first pass (``written_home``), then used by
        # a second one: a path to such a file says nothing of whose home it is
        self.track_home = own_state is not None or "expanduser" in source or ".home()" in source
        self.own_state: frozenset[str] = own_state or frozenset()
        self.written_home: set[str] = set()  # names of files written under the home folder
        self.path_returns: dict[str, str] = {}  # local function -> file name its path ends in

    # -- traversal (NodeVisitor's, with the method lookup cached per node type) --------------
    def visit(self, node: ast.AST) -> None:
        kind = type(node)
        method = _DISPATCH.get(kind, _UNSEEN)
        if method is _UNSEEN:
            method = _dispatch_for(kind)
        if method is None:
            return
        if self.depth >= MAX_WALK_DEPTH:
            # deeper code is not followed; the engine reports it, the rest of the file is read
            self.incomplete(node, f"code nested deeper than {MAX_WALK_DEPTH} levels")
            return
        self.depth += 1
        try:
            method(self, node)
        except RecursionError:  # a helper (folding, name resolution) recursing on a deep chain
            self.incomplete(node, "an expression too deeply nested to follow")
        finally:
            self.depth -= 1

    def incomplete(self, node: ast.AST, why: str) -> None:
        """Record a part of the file that was not analysed (a few per file)."""
        if len(self.facts.incomplete) < MAX_INCOMPLETE:
            self.facts.incomplete.append((getattr(node, "lineno", 0), why))

    def generic_visit(self, node: ast.AST) -> None:
        # contexts and operators are not among the fields; a child whose visit is a no-op (a
        # name: a fifth of all nodes) is not called at all. ``visit``, inlined (the hottest
        # call): every child is one level deeper, and one too deep to follow is noted by it
        if self.depth >= MAX_WALK_DEPTH:
            for child in ast.iter_child_nodes(node):
                self.visit(child)
            return
        dispatch = _DISPATCH.get
        self.depth += 1
        try:
            for name in _CHILD_FIELDS[type(node)]:
                value = getattr(node, name, None)
                for item in value if isinstance(value, list) else (value,):
                    if not isinstance(item, ast.AST):
                        continue
                    if type(item) is _CONSTANT:  # most are numbers, None or short strings:
                        value = item.value  # visit_Constant notes none of them, not called
                        if not isinstance(value, (str, bytes)) or len(value) < 4:
                            continue
                    method = dispatch(type(item), _UNSEEN)
                    if method is _UNSEEN:
                        method = _dispatch_for(type(item))
                    if method is None:
                        continue
                    try:
                        method(self, item)
                    except RecursionError:
                        self.incomplete(item, "an expression too deeply nested to follow")
        finally:
            self.depth -= 1

    # -- context ---------------------------------------------------------------------------
    @property
    def where(self) -> str:
        if self.func_stack:
            return WHERE_FUNCTION
        return self.in_main or WHERE_MODULE

    def _set_scope(self, scope: Scope) -> None:
        self.scope = scope
        self.folder.scope = scope

    # -- imports ---------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            self.facts.imports.add(a.name)
            if a.asname:
                self.scope.aliases[a.asname] = a.name
                self.folder.aliases_changed()
            else:
                root = a.name.split(".")[0]
                self.scope.aliases.setdefault(root, root)
                self.folder.aliases_changed()

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        mod = node.module or ""
        if node.level:
            # kept apart from the aliases: only the engine's cross-module pass reads these
            base = "." * node.level + (f"{mod}." if mod else "")
            for a in node.names:
                if a.name != "*":
                    self.relative[a.asname or a.name] = base + a.name
            return
        self.facts.imports.add(mod)
        for a in node.names:
            if a.name == "*":
                continue
            self.scope.aliases[a.asname or a.name] = f"{mod}.{a.name}" if mod else a.name
            self.folder.aliases_changed()
            self.facts.imported_names.add(f"{mod}.{a.name}")

    # -- definitions -----------------------------------------------------------------------
    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for dec in node.decorator_list:
            self.visit(dec)
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        parent = self.scope
        self._set_scope(Scope(parent))
        every = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        every += [a for a in (node.args.vararg, node.args.kwarg) if a is not None]
        self.scope.params = {a.arg for a in every if a.arg not in ("self", "cls")}
        self.func_stack.append(node.name)
        self.return_stack.append([])
        silenced, self.silenced = self.silenced, 0
        guarded, self.guarded = self.guarded, 0  # a function's calls: when it is called
        arms, self.arms = self.arms, ()
        loops, self.loops = self.loops, 0
        try:
            for stmt in node.body:
                self.visit(stmt)
            # Returns of this body, nested defs included (collected while visiting, so the body
            # is never walked again: a second walk per def was quadratic in nesting depth).
            values = self.return_stack[-1]
            returned: set[str] = set()
            for value in values:
                returned |= self.labels_of(value)
            if self.track_home and "home" in returned:
                # ``return Path.home() / ".tool" / "state.json"``: the file its callers open
                names = {
                    self._path_name(v)
                    for v in values
                    if not (isinstance(v, ast.Constant) and v.value is None)  # `return None`
                }
                if len(names) == 1 and (name := names.pop()):
                    self.path_returns[node.name] = name
                    if name in self.own_state:
                        returned.discard("home")
            self.seen_defs.add(node.name)
            if returned:  # what a helper returns flows out of its calls: b64d(...) is decoded
                self.returns[node.name] = frozenset(returned)
                places = _tuple_places(values)
                if places:
                    self.tuple_returns[node.name] = tuple(
                        frozenset().union(*(self.labels_of(v.elts[i]) for v in values))  # type: ignore[attr-defined]
                        for i in range(places)
                    )
            if any(self._command_line(v) for v in values):
                self.cli_functions.add(node.name)
            if values and all(self._request_for(v, every) for v in values):
                self.facts.request_helpers.add(node.name)
            if len(self.func_stack) == 1 and values and all(map(self._configured_address, values)):
                self.address_functions.add(node.name)  # def get_url(): return os.getenv("X_URL")
        finally:
            self.silenced = silenced
            self.guarded = guarded
            self.arms = arms
            self.loops = loops
            values = self.return_stack.pop()
            if self.return_stack:
                self.return_stack[-1].extend(values)
            self.func_stack.pop()
            self._set_scope(parent)

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None:
            if self.return_stack:
                self.return_stack[-1].append(node.value)
            self.visit(node.value)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        # a lambda bound to a name (``run = lambda u: exec(...)``) is that function: calls of
        # the name run its body, as they would a def's
        self.func_stack.append(self.lambda_names.get(id(node), "<lambda>"))
        try:
            self.visit(node.body)
        finally:
            self.func_stack.pop()

    def visit_BinOp(self, node: ast.BinOp) -> None:
        # a left-deep chain (a + b + c + ...) is a list, not nesting: walked as one
        rights: list[ast.expr] = []
        left: ast.expr = node
        while isinstance(left, ast.BinOp):
            rights.append(left.right)
            left = left.left
        self.visit(left)
        for right in reversed(rights):
            self.visit(right)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = tuple(self.folder.resolve(b) or "" for b in node.bases)
        methods = tuple(
            s.name for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
        )
        self.facts.classes.append(ClassFact(node.name, bases, node.lineno, methods))
        for b in node.bases:
            self.visit(b)
        self.class_stack.append(bases)
        try:
            for stmt in node.body:
                self.visit(stmt)
        finally:
            self.class_stack.pop()

    def visit_If(self, node: ast.If) -> None:
        main = not self.func_stack and (_is_main_guard(node) or self._cli_option(node.test))
        if main or (not self.func_stack and self._maintainer_branch(node.test)):
            # `if __name__ == "__main__"` and `if sys.argv[-1] == "publish"`: run by a person
            # on purpose, never by importing (nor, for the second, by installing)
            outer = self.in_main
            self.visit(node.test)
            self.in_main = WHERE_MAIN if main and outer is None else WHERE_MAINTAINER
            try:
                for stmt in node.body:
                    self.visit(stmt)
            finally:
                self.in_main = outer
            for stmt in node.orelse:
                self.visit(stmt)
            return
        # an elif chain is a list, not nesting: walked as one
        self.chains += 1
        chain, arm, outer_arms = self.chains, 0, self.arms
        # in a loop, one pass may take one arm and the next pass another: none excludes
        exclusive = not self.loops
        while True:
            self.visit(node.test)
            self.guarded += 1
            if exclusive:
                self.arms = (*outer_arms, (chain, arm))
            try:
                for stmt in node.body:
                    self.visit(stmt)
            finally:
                self.guarded -= 1
                self.arms = outer_arms
            arm += 1
            nxt = node.orelse[0] if len(node.orelse) == 1 else None
            if not isinstance(nxt, ast.If) or (
                not self.func_stack
                and (
                    _is_main_guard(nxt)
                    or self._maintainer_branch(nxt.test)
                    or self._cli_option(nxt.test)
                )
            ):
                other = 1 if node.orelse and not isinstance(nxt, ast.If) else 0  # else:
                self.guarded += other
                if exclusive:
                    self.arms = (*outer_arms, (chain, arm))
                try:
                    for stmt in node.orelse:
                        self.visit(stmt)
                finally:
                    self.guarded -= other
                    self.arms = outer_arms
                return
            node = nxt

    def _cli_option(self, test: ast.expr) -> bool:
        """A test of ``sys.argv`` for a command-line option (``if sys.argv[1:2] ==
        ["--helper"]:``): the branch of a program's entry module that runs only when a person
        or the program itself starts it with that option, like ``if __name__ == "__main__"``
        (in setup.py both still run at install)."""
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
            return any(self._cli_option(value) for value in test.values)
        if not isinstance(test, ast.Compare) or len(test.ops) != 1:
            return False
        if not isinstance(test.ops[0], (ast.Eq, ast.In)):
            return False
        sides = [test.left, *test.comparators]
        options: list[object] = []
        for side in sides:
            if isinstance(side, (ast.List, ast.Tuple)):
                options += [getattr(e, "value", None) for e in side.elts]
            elif isinstance(side, ast.Constant):
                options.append(side.value)
        if not options or not all(
            isinstance(o, str) and len(o) > 1 and o.startswith("-") for o in options
        ):
            return False
        return self._reads_argv(sides)

    def _maintainer_branch(self, test: ast.expr) -> bool:
        """A test of ``sys.argv`` against a maintainer command (``publish``, ``upload``...)."""
        if not isinstance(test, (ast.Compare, ast.Call)):
            return False
        commands = maintainer_commands(test)
        return commands is not None and self._reads_argv(commands)

    def _reads_argv(self, sides: list[ast.expr]) -> bool:
        """One side of a comparison is ``sys.argv``, an item or slice of it, or a module name
        given one item of it (``command = sys.argv[-1]``)."""
        for side in sides:
            if isinstance(side, ast.Name) and side.id in self.argv_names:
                return True
            base = side.value if isinstance(side, ast.Subscript) else side
            if self.folder.resolve(base) == "sys.argv":
                return True
        return False

    def _instance_names(self) -> frozenset[str]:
        if self.instance_names is None:
            found = _instances(self.module, self.source) if self.module else None
            self.instance_names = found or frozenset()
        return self.instance_names

    def _argv_names(self, body: list[ast.stmt]) -> set[str]:
        """Module-level names given one item of ``sys.argv`` (``command = sys.argv[-1]``) and
        never assigned again."""
        assigned: dict[str, int] = {}
        argv: set[str] = set()
        for stmt in body:
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
                and isinstance(stmt.value, ast.Subscript)
                and self.folder.resolve(stmt.value.value) == "sys.argv"
            ):
                argv.add(stmt.targets[0].id)
        if not argv:
            return set()
        module = ast.Module(body=body, type_ignores=[])
        for name, _value in _stored_names(module, self.source, params=False):
            assigned[name] = assigned.get(name, 0) + 1
        return {n for n in argv if assigned.get(n) == 1}

    def visit_Module(self, node: ast.Module) -> None:
        # Module-level imports first: `import requests` two lines below the code that calls it
        # still names the module those calls use (the file imports it before any function runs).
        for stmt in _module_imports(node.body):
            self.visit(stmt)
        self.defs = _top_defs(node.body)
        self.module = node
        doc = ast.get_docstring(node, clean=False)
        if doc is not None and "__doc__" in self.code:
            self.scope.values["__doc__"] = doc  # exec(__doc__): the module's docstring as code
        self.argv_names = self._argv_names(node.body)
        hinted = sink_hint_lines(self.code)
        if hinted:
            self._find_sink_wrappers(node.body, hinted)
        sending = _lines_with(self.code, ("post(", "put(", "patch(", "urlopen(", "Request("))
        if sending:
            self._find_send_wrappers(node.body, sending)
        signing = _lines_with(self.code, ("jwt", "hmac"))
        if signing:
            self._find_key_params(node.body, signing)
        for i, stmt in enumerate(node.body):
            if not self._is_quiet_statement(stmt, i):
                self.facts.module_statements += 1
            self.visit(stmt)

    def _find_key_params(self, body: list[ast.stmt], hinted: list[int]) -> None:
        """Top-level functions and methods with a parameter used only as the key of a keyed
        signer (``jwt.encode(msg, key)``, ``hmac.new(key, msg)``): a call gives them a key to
        sign with, and the key is in none of what comes back. Only those whose lines name a
        signer's module (``hinted``, sorted line numbers) are walked."""
        found: dict[str, tuple[list[str], frozenset[str]]] = {}
        seen: set[str] = set()
        for stmt, method in _top_functions(body):
            if stmt.name in seen:  # two methods of one name: which one a call runs is unknown
                found.pop(stmt.name, None)
                continue
            seen.add(stmt.name)
            if not _spans_a_line(stmt, hinted):
                continue
            params = [a.arg for a in [*stmt.args.posonlyargs, *stmt.args.args]]
            if method and params and params[0] in ("self", "cls"):
                params = params[1:]
            names = set(params) | {a.arg for a in stmt.args.kwonlyargs}
            uses: dict[str, int] = {}
            keys: dict[str, int] = {}
            for sub in walk(stmt):
                if isinstance(sub, ast.Name) and sub.id in names:
                    if not isinstance(sub.ctx, ast.Load):
                        names.discard(sub.id)  # given another value: not only the key
                    uses[sub.id] = uses.get(sub.id, 0) + 1
                elif isinstance(sub, ast.Call):
                    key = self._signing_key(sub)
                    if isinstance(key, ast.Name) and key.id in names:
                        keys[key.id] = keys.get(key.id, 0) + 1
            only = frozenset(n for n in names if keys.get(n) and keys[n] == uses[n])
            if only:
                found[stmt.name] = (params, only)
        self.key_params = found

    def _find_sink_wrappers(self, body: list[ast.stmt], hinted: list[int]) -> None:
        """Top-level functions and methods whose lines name a command or ``exec`` call
        (``hinted``, sorted line numbers): those that may hand a parameter to one
        (``_sink_wrapper``), walked only when a call gives one hidden content
        (``_indirect_sink``)."""
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if _spans_a_line(stmt, hinted):
                    self.sink_candidates.setdefault(stmt.name, []).append((stmt, False))
            elif isinstance(stmt, ast.ClassDef) and _spans_a_line(stmt, hinted):
                for sub in stmt.body:
                    method = isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef))
                    if method and _spans_a_line(sub, hinted):
                        self.sink_candidates.setdefault(sub.name, []).append((sub, True))  # type: ignore[union-attr,arg-type]

    def _sink_wrapper(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, method: bool
    ) -> tuple[str, int, str, list[ast.keyword], ast.expr | None] | None:
        """How a function hands a parameter to a command or ``exec``
        (``def runcommand(value): subprocess.run(value, shell=True)``): the sink, the
        parameter's place and name, constant keywords of the inner call and a program item
        that takes nothing from the parameters; None when it hands none."""
        params = [a.arg for a in [*node.args.posonlyargs, *node.args.args]]
        skip = 1 if method and params and params[0] in ("self", "cls") else 0
        params = params[skip:]
        if not params:
            return None
        for sub in walk(node):
            if not isinstance(sub, ast.Call) or not sub.args:
                continue
            sink = self.folder.resolve(sub.func)
            if not runs_argument(sink):
                continue
            command = sub.args[0]
            if (
                isinstance(command, (ast.List, ast.Tuple))
                and command.elts
                and isinstance(command.elts[0], ast.Constant)
                and str(command.elts[0].value).lower() in FETCH_PROGRAMS
            ):
                continue  # ["curl", ..., url]: the parameter is a URL or a path, not a command
            used = {n.id for n in walk(command) if isinstance(n, ast.Name)}
            hit = next((i for i, p in enumerate(params) if p in used), None)
            if hit is not None and sink is not None:
                consts = [k for k in sub.keywords if k.arg and isinstance(k.value, ast.Constant)]
                # a command list whose program item takes nothing from the parameters
                # ([git_bin, "clone", "--", url, path]): the parameter is that program's
                # argument, and the call a caller makes runs that program
                program = None
                if isinstance(command, (ast.List, ast.Tuple)) and command.elts:
                    first = command.elts[0]
                    if not isinstance(first, ast.Starred) and not {
                        n.id for n in walk(first) if isinstance(n, ast.Name)
                    } & set(params):
                        program = first
                return sink, hit, params[hit], consts, program
        return None

    def _find_send_wrappers(self, body: list[ast.stmt], hinted: list[int]) -> None:
        """Top-level functions and methods whose lines name an HTTP send (``hinted``): those
        that may send a parameter (``_send_wrapper``), walked only when a call hands one a
        secret (``_indirect_send``)."""
        for stmt, method in _top_functions(body):
            if _spans_a_line(stmt, hinted):
                self.send_candidates.setdefault(stmt.name, []).append((stmt, method))

    def _send_wrapper(
        self, stmt: ast.FunctionDef | ast.AsyncFunctionDef, method: bool
    ) -> tuple[str, int, str, ast.expr | None] | None:
        """How a function sends a parameter in the body of an HTTP request (``def report(v):
        requests.post(URL, data={"t": v})``): the sink, the parameter's place and name, and the
        address when the caller does not choose it; None when it sends none."""
        params = [a.arg for a in [*stmt.args.posonlyargs, *stmt.args.args]]
        if method and params and params[0] in ("self", "cls"):
            params = params[1:]
        if not params:
            return None
        for sub in walk(stmt):
            if not isinstance(sub, ast.Call):
                continue
            sink = self.folder.resolve(sub.func)
            if sink not in SEND_SINKS:
                continue
            body_parts = [*sub.args[1:]]
            body_parts += [k.value for k in sub.keywords if k.arg in SEND_BODY_KWARGS]
            used = {n.id for part in body_parts for n in walk(part) if isinstance(n, ast.Name)}
            hit = next((i for i, p in enumerate(params) if p in used), None)
            if hit is None:
                continue
            address = sub.args[0] if sub.args else None
            if address is not None and {
                n.id for n in walk(address) if isinstance(n, ast.Name)
            } & set(params):
                address = None  # the caller chooses where it goes
            return sink, hit, params[hit], address
        return None

    def _helper(self, node, callee, candidates, found, labels, read, *, last):  # type: ignore[no-untyped-def]
        """What ``read`` makes of the local function ``node`` calls (``callee``), one of
        ``candidates`` (name -> its definitions), walked once and kept in ``found``; None
        when the call hands it nothing labelled ``labels`` (then it is not walked at all), or
        no definition of that name qualifies. ``last``: the last definition that does wins,
        else the first."""
        defs = candidates.get(callee) if callee is not None else None
        if defs is None:
            return None
        given = [*node.args, *(k.value for k in node.keywords)]
        if not any(self.labels_of(a) & labels for a in given):
            return None
        if callee not in found:
            read_all = (read(stmt, method) for stmt, method in defs)
            kept = [w for w in read_all if w is not None]
            found[callee] = (kept[-1] if last else kept[0]) if kept else None
        return found[callee]

    def _indirect_send(self, node: ast.Call) -> None:
        """``report(token)`` of a helper that sends its parameter (``_send_wrapper``), given a
        secret or the host's identity: recorded as that send, made here."""
        callee = _local_callee(node.func)
        wrapper = self._helper(  # the first function of that name that sends
            node, callee, self.send_candidates, self.send_wrappers, SENT_THROUGH_HELPERS,
            self._send_wrapper, last=False,
        )  # fmt: skip
        if wrapper is None:
            return
        sink, index, param, address = wrapper
        arg = node.args[index] if len(node.args) > index else None
        if arg is None:
            arg = next((k.value for k in node.keywords if k.arg == param), None)
        if arg is None or isinstance(arg, ast.Starred):
            return
        if not self.labels_of(arg) & SENT_THROUGH_HELPERS:
            return
        body = [ast.keyword(arg="data", value=arg)]
        self._record(_call_like(node, node.func, [address] if address else [], body), sink)

    def _indirect_sink(self, node: ast.Call, name: str | None) -> None:
        """A command or code run through another call: ``Thread(target=os.system, args=[c])``
        runs ``os.system(c)``; ``runcommand(c)`` of a helper that runs its parameter does too
        (followed when ``c`` carries hidden content: decoded, downloaded, received)."""
        if name in CALLBACK_SLOTS:
            slot, rest = CALLBACK_SLOTS[name]
            target = next((k.value for k in node.keywords if k.arg == "target"), None)
            if target is None and len(node.args) > slot:
                target = node.args[slot]
            sink = self.folder.resolve(target) if target is not None else None
            if target is None or not runs_argument(sink) or sink is None:
                return
            given = next((k.value for k in node.keywords if k.arg == "args"), None)
            if rest is not None:
                args = list(node.args[rest:])
            elif isinstance(given, (ast.List, ast.Tuple)):
                args = list(given.elts)
            elif given is None and len(node.args) > slot + 1:
                given = node.args[slot + 1]
                args = list(given.elts) if isinstance(given, (ast.List, ast.Tuple)) else []
            else:
                args = []
            self._record(_call_like(node, target, args, []), sink)
            return
        callee = _local_callee(node.func)
        wrapper = self._helper(  # the last function of that name that runs one
            node, callee, self.sink_candidates, self.sink_wrappers, FOLLOWED_LABELS,
            self._sink_wrapper, last=True,
        )  # fmt: skip
        if wrapper is None:
            return
        sink, index, param, consts, program = wrapper
        arg = node.args[index] if len(node.args) > index else None
        if arg is None:
            arg = next((k.value for k in node.keywords if k.arg == param), None)
        if arg is None or isinstance(arg, ast.Starred) or not self.labels_of(arg) & FOLLOWED_LABELS:
            return
        if program is not None:
            arg = ast.copy_location(ast.List(elts=[program, arg], ctx=ast.Load()), node)
        self._record(_call_like(node, node.func, [arg], consts), sink)

    def _is_quiet_statement(self, stmt: ast.stmt, index: int) -> bool:
        if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
            return True
        if isinstance(stmt, ast.AsyncFunctionDef):
            return True
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            return True
        value = getattr(stmt, "value", None)
        literal = (ast.Constant, ast.List, ast.Tuple, ast.Dict)
        return isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(value, literal)

    # -- assignments (dataflow) --------------------------------------------------------------
    def labels_of(self, node: ast.AST, depth: int = 0) -> frozenset[str]:
        """Labels of the values an expression is built from (memoised per node).

        Recursive while shallow (fast); a deeper expression is finished by an explicit stack.
        """
        kind = _LABEL_KINDS[type(node)]  # the isinstance tests below, one lookup per type
        if kind & _FREE:  # literals, contexts and operators: nothing flows in
            return _NO_LABELS
        key = id(node)
        cached = self._labels.get(key)
        if cached is not None:
            return cached
        if kind & _READS_CONFIG and self._config_env_read(node):
            self._labels[key] = _NO_LABELS  # os.getenv("HTTPS_PROXY"): settings, not secrets
            return _NO_LABELS
        if depth >= LABEL_RECURSION and not kind & _NAME:
            return self._labels_iterative(node)
        # only names, attributes and calls have labels of their own; ``out`` stays None while
        # nothing flows in (most expressions): no set is made for them
        out = None
        if kind & _ORIGIN:
            try:  # _own_labels_guarded, inlined (hot)
                own = self._own_labels(node)
            except RecursionError:  # name resolution recursing on a long chain
                self.incomplete(node, "an expression too deeply nested to follow")
                own = _NO_LABELS
            if kind & _NAME:  # a leaf, the most common node: nothing flows in from below
                if not own:
                    self._labels[key] = _NO_LABELS
                    return _NO_LABELS
                return self._memo_labels(key, set(own))
            if own:
                out = set(own)
        if kind & _BINOP and isinstance(node.op, ast.BitXor):  # type: ignore[attr-defined]
            out = out or set()
            out.add(DECIPHERED)  # XOR with a key
        # ast.iter_child_nodes, inlined (hot), without label-free fields
        kinds = _LABEL_KINDS
        for name in _LABEL_FIELDS[type(node)]:
            value = getattr(node, name, None)
            for item in value if isinstance(value, list) else (value,):
                if isinstance(item, ast.AST) and not kinds[type(item)] & _FREE:
                    labels = self.labels_of(item, depth + 1)
                    if not labels:
                        continue
                    if out is None:
                        out = set(labels)
                    else:
                        out |= labels
        if out is None:
            self._labels[key] = _NO_LABELS
            return _NO_LABELS
        if kind & _CALL and out & HIDDEN_CODE_LABELS:
            out = self._serialised_data(node, out)  # type: ignore[arg-type]
        if kind & (_CALL | _SUBSCRIPT) and "fingerprint" in out:
            out = self._identity_used(node, out)  # type: ignore[arg-type]
        if kind & (_CALL | _SUBSCRIPT) and "env-dump" in out:
            out = self._one_variable(node, out)  # type: ignore[arg-type]
        if out and kind & (_CALL | _ATTRIBUTE):
            out = self._not_content(node, out)  # type: ignore[arg-type]
        return self._memo_labels(key, out)

    def _not_content(self, node: ast.Attribute | ast.Call, out: set[str]) -> set[str]:
        """What a value is made of, not what it was made with: a response's status or headers
        are not the downloaded content (``httpx.get(url).status_code``), a process's exit
        status is not the environment it was started with (``Popen(cmd, env=env).returncode``),
        a regex match is a slice of its subject, never of the pattern
        (``PATTERN.match(text).group()``), a process's answer is not its command line
        (``Popen(cmd).communicate(data)``), and a length is not the text it measures
        (``host[: -len(os.environ["PATH_SUFFIX"])]``)."""
        if isinstance(node, ast.Attribute):
            if node.attr in PUBLIC_PARTS:
                return out - KEY_LABELS  # a key pair's public address, not its secret
            if node.attr in PROCESS_NUMBERS:
                return set()  # a process's exit status or id: a number, whatever it was given
            return out - _FIXED_DOWNLOAD if node.attr in RESPONSE_META else out
        func = node.func
        if isinstance(func, ast.Name) and func.id == "len":
            return set()  # a length: a number, none of the text it measures
        if isinstance(func, ast.Name) and func.id in NUMBER_CASTS and "remote" in out:
            return out - {"remote"}  # int(sock.recv(32)): a port number, never a command
        if (
            isinstance(func, ast.Attribute)
            and func.attr in SIGNING_METHODS
            and func.attr not in self.defs  # a library's method, not one this module defines
        ):
            return out - KEY_LABELS
        if isinstance(func, ast.Attribute) and func.attr in ARGUMENT_ONLY_METHODS:
            kept = set(self._own_labels_guarded(node))
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                kept |= self._labels.get(id(arg), _NO_LABELS) or self.labels_of(arg)
            return kept
        removed = self._removed_text(node)
        if removed:
            kept = set(self._own_labels_guarded(node))
            parts = [func.value] if isinstance(func, ast.Attribute) else []
            for arg in [*parts, *node.args, *(k.value for k in node.keywords)]:
                if all(arg is not r for r in removed):
                    kept |= self._labels.get(id(arg), _NO_LABELS) or self.labels_of(arg)
            return kept
        return out

    def _removed_text(self, node: ast.Call) -> list[ast.expr]:
        removed = self._removed_argument(node)
        if removed is not None:
            return [removed]
        local = _local_callee(node.func) if self.key_params else None
        if local is None or local not in self.key_params:
            return []
        # a local function's parameters that it only signs with (``self.encode_jwt(msg, key)``)
        if any(isinstance(a, ast.Starred) for a in node.args):
            return []  # which argument lands on which parameter is unknown
        params, only = self.key_params[local]
        out = [a for a, p in zip(node.args, params, strict=False) if p in only]
        return out + [k.value for k in node.keywords if k.arg in only]

    def _removed_argument(self, node: ast.Call) -> ast.expr | None:
        """The argument of a call whose text the result never holds: the ``old`` of
        ``text.replace(old, new)`` and the pattern of ``re.sub(pattern, repl, text)`` are cut
        out, so what they were made with (``"$" + chr(ord("a") + i)``, a placeholder named by
        character arithmetic) is not in the result; the text and what replaces it are. The key
        of ``jwt.encode(claims, key)`` or ``hmac.new(key, msg)`` only signs the result, and a
        cipher's (``Fernet(key)``) only encrypts or decrypts what it is given."""
        func, args = node.func, node.args
        if any(isinstance(a, ast.Starred) for a in args):
            return None
        if isinstance(func, ast.Attribute) and func.attr == "replace" and len(args) >= 2:
            return args[0]  # str.replace(old, new[, count]) (Path.replace takes one argument)
        if len(args) >= 3 and self.folder.resolve(func) in ("re.sub", "re.subn"):
            return args[0]
        return self._signing_key(node)

    def _signing_key(self, node: ast.Call) -> ast.expr | None:
        """The key argument of a keyed signer's call (``jwt.encode(claims, key)``)."""
        name = self.folder.resolve(node.func)
        if name not in KEYED_SIGNERS or any(isinstance(a, ast.Starred) for a in node.args):
            return None
        position, keyword = KEYED_SIGNERS[name]
        if len(node.args) > position:
            return node.args[position]
        return next((k.value for k in node.keywords if k.arg == keyword), None)

    def _identity_used(self, node: ast.Call | ast.Subscript, out: set[str]) -> set[str]:
        """The host's identity used to pick something, not held by what is picked:
        ``open(os.path.join(os.getcwd(), name))`` is the file's content, and
        ``tokens.get(str(cwd))`` or ``settings[platform.node()]`` the entry a mapping holds for
        it (a local class's own ``get`` may hand its key back: not this)."""
        if isinstance(node, ast.Subscript):
            if isinstance(node.slice, ast.Slice) or "fingerprint" in self.labels_of(node.value):
                return out
            return out - {"fingerprint"}
        func = node.func
        opens = isinstance(func, ast.Attribute) and func.attr in FILE_READS
        if opens or self.folder.resolve(func) in FILE_OPENERS:
            return out - {"fingerprint"}
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "get"
            and func.attr not in self.defs
            and node.args
            and self.folder.resolve(func) is None  # a value's method, not requests.get
            and not self.labels_of(func.value) & {"fingerprint", HTTP_CLIENT}
            and all("fingerprint" not in self.labels_of(a) for a in node.args[1:])
            and not node.keywords
        ):
            return out - {"fingerprint"}
        return out

    def _one_variable(self, node: ast.Call | ast.Subscript, out: set[str]) -> set[str]:
        """One variable read from a copy of the environment (``env.get("GITHUB_TOKEN")``) is
        a secret as ``os.getenv`` gives it, not the whole environment."""
        if isinstance(self._env_name(node), str):
            return (out - {"env-dump"}) | {"secret"}
        return out

    def _serialised_data(self, node: ast.Call, out: set[str]) -> set[str]:
        """``pickle.dumps(x)``, ``json.dumps(x)``: a data record of ``x``, never runnable code
        (secrets in it stay secrets)."""
        if self.folder.resolve(node.func) in DATA_DUMPS:
            return out - HIDDEN_CODE_LABELS
        return out

    def _memo_labels(self, key: int, out: set[str]) -> frozenset[str]:
        if "env-dump" in out:
            out.add("secret")
        result = frozenset(out)
        self._labels[key] = result
        return result

    def _labels_iterative(self, root: ast.AST) -> frozenset[str]:
        """``labels_of`` with an explicit stack (children first), for deep expressions."""
        stack: list[tuple[ast.AST, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if id(node) in self._labels:
                continue
            children = [c for c in _label_children(node) if not isinstance(c, _LABEL_FREE)]
            if not expanded:
                stack.append((node, True))
                stack.extend((c, False) for c in children if id(c) not in self._labels)
                continue
            if isinstance(node, (ast.Call, ast.Subscript)) and self._config_env_read(node):
                self._labels[id(node)] = _NO_LABELS  # settings, not secrets (see labels_of)
                continue
            own = self._own_labels_guarded(node) if isinstance(node, _LABEL_ORIGINS) else ()
            out = set(own)
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitXor):
                out.add(DECIPHERED)  # XOR with a key
            for c in children:
                out |= self._labels.get(id(c), _NO_LABELS)
            if isinstance(node, ast.Call) and out & HIDDEN_CODE_LABELS:
                out = self._serialised_data(node, out)
            if isinstance(node, (ast.Call, ast.Subscript)) and "fingerprint" in out:
                out = self._identity_used(node, out)
            if isinstance(node, (ast.Call, ast.Subscript)) and "env-dump" in out:
                out = self._one_variable(node, out)
            if out and isinstance(node, (ast.Attribute, ast.Call)):
                out = self._not_content(node, out)
            self._memo_labels(id(node), out)
        return self._labels[id(root)]

    def _own_labels_guarded(self, sub: ast.AST) -> frozenset[str] | set[str]:
        try:
            return self._own_labels(sub)
        except RecursionError:  # name resolution recursing on a long chain
            self.incomplete(sub, "an expression too deeply nested to follow")
            return _NO_LABELS

    def _own_labels(self, sub: ast.AST) -> frozenset[str] | set[str]:
        out: set[str] = set()
        if isinstance(sub, ast.Name):
            out |= self.scope.label(sub.id)
            if self.folder.resolve(sub) in ENVIRONS:
                out.add("secret")  # from os import environ as E: E is os.environ
            named = _secret_name(sub.id)
            if named & WALLET_NAMED and not self.scope.is_setting(sub.id):
                out.add("wallet-secret")
            if named & CREDENTIAL_NAMED:
                out.add(CREDENTIAL_LABEL)
        elif isinstance(sub, ast.Attribute):
            name = self.folder.resolve(sub)
            if name in ENVIRONS:
                out.add("secret")
            elif name is not None and name.startswith(WEB_REQUESTS):
                out.add("remote")  # what a web client sent: flask.request.args["cmd"]
            key = _dotted(sub)
            if key is not None:
                out |= self.scope.label(key)
            if _secret_name(sub.attr) & CREDENTIAL_NAMED:
                out.add(CREDENTIAL_LABEL)
        elif isinstance(sub, ast.Call):
            name = self.folder.resolve(sub.func)
            if (
                isinstance(sub.func, ast.Attribute)
                and sub.func.attr in DECODE_METHODS
                and not self._trivial_input(sub)
            ):
                out.add(self._decoded_label(sub))
            if isinstance(sub.func, ast.Attribute) and sub.func.attr in FILE_READS:
                out.add("file")
            if isinstance(sub.func, ast.Attribute) and sub.func.attr in ("recv", "recvfrom"):
                out.add("remote")  # bytes received from a socket peer
            returned: frozenset[str] = _NO_LABELS
            local = _local_callee(sub.func)
            if (
                local is None
                and isinstance(sub.func, ast.Attribute)
                and isinstance(sub.func.value, ast.Name)
                and sub.func.attr in self.defs
                and sub.func.value.id in self._instance_names()
            ):
                local = sub.func.attr  # req.get(...) with req = Request(): a local method
            if local is not None and local in self.returns:
                returned = self.returns[local]
            elif local is not None and local in self.defs and local not in self.seen_defs:
                # a function defined further down: its labels are filled in after the pass
                returned = frozenset({PENDING + local})
            elif self.imported is not None:
                target = self._imported_target(sub.func) or name
                if target is not None and "." in target:
                    returned = self.imported(target)  # a helper of another module of the package
            if DECODED_PARAM in returned:
                # a decoding helper (`def unpack(s): return b64decode(s)`) given data of this
                # scope decodes that data here
                returned = returned - {DECODED_PARAM}
                if any(not self._is_param(a) for a in sub.args):
                    returned = returned | {"decoded"}
            out |= returned
            if name == "chr" and sub.args and isinstance(sub.args[0], ast.BinOp):
                out.add(DECIPHERED)  # chr(ord(c) ^ k), chr(x - 3): character arithmetic
            elif isinstance(sub.func, ast.Attribute) and sub.func.attr == "translate" and sub.args:
                out.add(DECIPHERED)  # a substitution alphabet (str.maketrans)
            if (
                isinstance(sub.func, ast.Attribute)
                and sub.func.attr in CLIENT_FETCHES
                and (
                    HTTP_CLIENT in self.labels_of(sub.func.value)
                    or _dotted(sub.func.value) in self.client_attrs
                )
            ):
                out |= self._downloaded(sub)  # opener.open(url), session.get(url)
            if name is None:
                return out
            label = LABEL_SOURCES.get(name)
            if label == "download":
                out |= self._downloaded(sub)
            elif label == SOCKET and self._local_socket(sub, name):
                out.add(LOCAL_SOCKET)
            elif label:
                out.add(label)
            if (
                name in DECODER_NAMES
                and not self._trivial_input(sub)
                and not (name in ROUND_TRIP_LOADS and self._serialised_attribute(sub))
                and not (name == "codecs.decode" and self._text_codec(sub))
            ):
                out.add(self._decoded_label(sub))
            if name in ("open", "io.open", "codecs.open") and sub.args:
                out.add("file")
            if name.endswith(("urlopen", "urlretrieve")):
                out |= self._downloaded(sub)
            if name in COMMAND_OUTPUTS and sub.args and self._asks_identity(sub.args[0]):
                out.add("fingerprint")  # os.popen("id").read(): who runs this, on which host
        return out

    def _asks_identity(self, command: ast.expr) -> bool:
        """A command line (text or list) whose program answers with the user's or the host's
        identity (``IDENTITY_COMMANDS``; ``uname -a`` or ``-n``, which print the host name)."""
        if isinstance(command, (ast.List, ast.Tuple)):
            words = [self.folder.fold(e) for e in command.elts]
        else:
            text = self.folder.fold(command)
            words = text.split() if isinstance(text, str) else []
        if not words or not isinstance(words[0], str):
            return False
        program = words[0].replace("\\", "/").rsplit("/", 1)[-1].lower().removesuffix(".exe")
        if program in IDENTITY_COMMANDS:
            return True
        return program == "uname" and any(w in UNAME_HOST_OPTIONS for w in words[1:])

    def _downloaded(self, fetch: ast.Call) -> frozenset[str]:
        """What a fetch returns: downloaded content, from a fixed source unless the address
        is given at run time (see ``FIXED_SOURCE``); nothing downloaded when the address
        written is this machine's own (``http://127.0.0.1:{port}/v1/models``: the answer of a
        local service, nothing that came from elsewhere)."""
        url = _url_arg(fetch)
        if url is None:
            return _FIXED_DOWNLOAD  # a client's own base address, or nothing we can see
        if isinstance(url, ast.Starred):
            return _FIXED_DOWNLOAD
        prefix = self._prefix(url)
        if prefix and loopback_address(prefix):
            return _NO_LABELS
        if prefix or self.folder.fold(url) is not None:
            return _FIXED_DOWNLOAD
        if self.labels_of(url) & _ADDRESS_FROM_ELSEWHERE:
            return _FIXED_DOWNLOAD  # decoded, or itself downloaded: hidden, not given
        return _GIVEN_DOWNLOAD

    def _serialised(self, arg: ast.expr) -> bool:
        """``pickle.dumps(x)`` (or a name bound to it in this scope... not tracked: calls only)."""
        return isinstance(arg, ast.Call) and _serialised_name(self.folder.resolve(arg.func))

    def _values_of_attribute(self, attr: str) -> list[ast.expr]:
        """Every value this module assigns to an attribute of this name (``_attribute_values``)."""
        if self.attribute_values is None:
            self.attribute_values = _attribute_values(self.module) if self.module else {}
        return self.attribute_values.get(attr, [])

    def _serialised_attribute(self, call: ast.Call) -> bool:
        """``marshal.loads(self._code)`` where every value this module gives ``_code`` is
        ``marshal.dumps(...)`` (or None): the object's own state loaded back (a script object
        keeping its compiled code, restored when unpickled), not a hidden blob."""
        arg = call.args[0] if call.args else None
        if not (isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name)):
            return False
        values = self._values_of_attribute(arg.attr)
        dumped = [v for v in values if isinstance(v, ast.Call)]
        return bool(dumped) and all(
            (isinstance(v, ast.Constant) and v.value is None)
            or (isinstance(v, ast.Call) and _serialised_name(self.folder.resolve(v.func)))
            for v in values
        )

    def _config_env_read(self, node: ast.Call | ast.Subscript) -> bool:
        """``os.getenv("HTTPS_PROXY")``, ``os.environ["REQUESTS_CA_BUNDLE"]``: a setting."""
        name = self._env_name(node)
        return isinstance(name, str) and CONFIG_ENV.search(name) is not None

    def _own_host_name(self, node: ast.expr) -> bool:
        """``socket.gethostname()`` or ``platform.node()`` itself, nothing added."""
        return (
            isinstance(node, ast.Call)
            and not node.args
            and self.folder.resolve(node.func) in ("socket.gethostname", "platform.node")
        )

    def _configured_address(self, node: ast.expr) -> bool:
        """``os.getenv("METADATA_URL")``, ``os.environ["OLLAMA_HOST"]``, or a name of this scope
        bound to one: where the user configured a client to connect (``ADDRESS_ENV``); also
        such an address trimmed (``.rstrip("/")``), with a path after it (``f"{base}{path}"``,
        ``base + "/api"``), or returned by a function of this module that returns only one
        (``get_server_url()``)."""
        while True:  # (a loop: a long sum or chain of trims is not recursed into)
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
                node = node.left  # the leftmost term of a sum
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in SAME_PLACE_METHODS
            ):
                node = node.func.value  # what is trimmed
            elif isinstance(node, ast.JoinedStr) and node.values:
                first = node.values[0]
                if not isinstance(first, ast.FormattedValue):
                    return False
                node = first.value  # what an f-string starts with
            else:
                break
        if isinstance(node, ast.Name):
            return node.id in self.scope.addresses
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and not node.args and func.id in self.address_functions:
                return True
        if not isinstance(node, (ast.Call, ast.Subscript)):
            return False
        name = self._env_name(node)
        return isinstance(name, str) and ADDRESS_ENV.search(name) is not None

    def _env_name(self, node: ast.Call | ast.Subscript) -> Value | None:
        """The variable name an environment read asks for (``os.getenv(NAME)``,
        ``os.environ[NAME]``, or ``env.get(NAME)`` and ``env[NAME]`` of a copy of the
        environment, ``_copy_entry``), when it folds; None for anything else."""
        if isinstance(node, ast.Call):
            func = node.func
            if not node.args or (
                isinstance(func, ast.Attribute) and func.attr not in _ENV_GETTER_ATTRS
            ):
                return None
            if self.folder.resolve(func) not in ENV_GETTERS:
                if not isinstance(func, ast.Attribute):
                    return None
                return self._copy_entry(func.value, node.args[0], func.attr == "get")
            return self.folder.fold(node.args[0])
        value = node.value
        if isinstance(value, ast.Attribute) and value.attr not in _ENVIRON_ATTRS:
            return None
        if not isinstance(node.slice, ast.expr):
            return None
        if self.folder.resolve(value) not in ENVIRONS:
            return self._copy_entry(value, node.slice, True)
        return self.folder.fold(node.slice)

    def _copy_entry(self, mapping: ast.expr, key: ast.expr, reads: bool) -> str | None:
        """The variable ``env.get("GITHUB_TOKEN")`` or ``env["HOME"]`` reads from ``env``, a
        name bound to a copy of the whole environment (``env = os.environ.copy()``), when the
        key is a variable's name (capitals, digits and ``_``): one variable, not the
        environment."""
        if not reads or not isinstance(mapping, ast.Name):
            return None
        if "env-dump" not in self.scope.label(mapping.id):
            return None  # (checked first: every subscript and .get() of the module comes here)
        name = self.folder.fold(key)
        return name if isinstance(name, str) and ENV_VARIABLE.fullmatch(name) else None

    def _prefix(self, node: ast.expr, depth: int = 0) -> str:
        """The constant text an expression starts with (``"https://host/" + path``,
        ``f"{BASE}?{q}"``, a name bound to one), or ""."""
        if depth > 8:
            return ""
        value = self.folder.fold(node)
        if isinstance(value, str):
            return value[:200]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._prefix(node.left, depth + 1)
        if isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            inner = first.value if isinstance(first, ast.FormattedValue) else first
            return self._prefix(inner, depth + 1)
        if isinstance(node, ast.Name):
            return self.scope.prefix(node.id)
        if isinstance(node, ast.Call) and self.folder.resolve(node.func) in REQUEST_BUILDERS:
            url = _url_arg(node)  # Request("http://host/...", ...)
            return self._prefix(url, depth + 1) if url is not None else ""
        return ""

    def _path_name(self, node: ast.expr, depth: int = 0, folded: bool = True) -> str:
        """The file name a path that does not fold ends in, when its last part is a constant
        (``os.path.join(here, "pkg/version.py")``, ``Path(root) / "v.py"``, ``f"{root}/v.py"``,
        ``abspath()`` of one, a name bound to one), else "": the name the path opens whatever
        the folder. ``folded``: whether ``node`` may fold (False: the caller knows it does not)."""
        if depth > 8:
            return ""
        value = self.folder.fold(node) if folded else None
        if isinstance(value, str):
            return file_name(value)
        if isinstance(node, ast.Name):
            return self.scope.path_name(node.id)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):  # pathlib's `/`
            last = self.folder.fold(node.right)
            return file_name(last) if isinstance(last, str) else ""
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            last = self.folder.fold(node.right)  # the name only after a separator of its own
            return file_name(last) if isinstance(last, str) and _separated(last) else ""
        if isinstance(node, ast.JoinedStr) and node.values:
            last = node.values[-1]
            if isinstance(last, ast.Constant) and isinstance(last.value, str):
                return file_name(last.value) if _separated(last.value) else ""
            return ""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            returned = self.path_returns.get(node.func.id)
            if returned:
                return returned
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            last = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if last not in _PATH_CALL_NAMES:
                return ""
            callee = self.folder.resolve(func) or ""
            if callee in PATH_JOINS:
                last = self.folder.fold(node.args[-1])
                return file_name(last) if isinstance(last, str) else ""
            if callee in PATH_KEEPERS or callee.rpartition(".")[2] in ("Path", "PurePath"):
                return self._path_name(node.args[0], depth + 1) if len(node.args) == 1 else ""
        return ""

    def _note_home_write(
        self,
        node: ast.Call,
        name: str,
        args: list[str | None],
        kwargs: list[tuple[str, str | None]],
    ) -> None:
        """A file under the home folder opened for writing (``open(p, "w")``,
        ``p.write_text(...)``, ``p.open("a")``): its name joins ``written_home``."""
        func = node.func
        method = func.attr if isinstance(func, ast.Attribute) else ""
        if name in FILE_OPENERS or method == "open":
            mode = dict(kwargs).get("mode") or (args[1] if len(args) > 1 else None)
            if method == "open" and name not in FILE_OPENERS:
                mode = dict(kwargs).get("mode") or (args[0] if args else None)
            if not mode or not any(c in mode for c in "wax+"):
                return
            path = func.value if name not in FILE_OPENERS else (node.args[0] if node.args else None)
        elif method in ("write_text", "write_bytes"):
            path = func.value
        else:
            return
        if path is None or "home" not in self.labels_of(path):
            return
        written = self._path_name(path)
        if written and not SECRET_FILE_NAME.search(written):
            self.written_home.add(written)

    def _is_param(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and node.id in self.scope.params

    def _command_line(self, node: ast.expr) -> bool:
        """The command line the program was started with: ``sys.argv``, what ``parse_args()``
        or ``parse_known_args()`` returns, or a local function returning that."""
        if isinstance(node, ast.Attribute) and node.attr == "argv":
            return self.folder.resolve(node) == "sys.argv"
        if isinstance(node, ast.Subscript):  # sys.argv[1:]
            return self._command_line(node.value)
        if not isinstance(node, ast.Call):
            return False
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("parse_args", "parse_known_args"):
            # argparse's: of sys.argv, or of the argument list a caller gives (not of data)
            return all(self._is_param(a) or self._command_line(a) for a in node.args[:1])
        return isinstance(func, ast.Name) and func.id in self.cli_functions and not node.args

    def _decoded_label(self, call: ast.Call) -> str:
        """``decoded``, or ``decoded-param`` when what is decoded is the enclosing function's
        parameter: a codec helper, hiding nothing by itself (its callers' data may)."""
        if call.args and all(self._from_param(a) for a in call.args[:1]):
            return DECODED_PARAM
        if call.args and self.labels_of(call.args[0]) == {DECODED_PARAM}:
            return DECODED_PARAM  # decoding again what a parameter decoded to (base64, marshal)
        return "decoded"

    def _from_param(self, node: ast.expr, depth: int = 0) -> bool:
        """A parameter, a field of one (``record["blob"]``, ``msg.body``; not ``self.x``), or
        one converted by its own methods with constant arguments (``code.encode("ascii")``,
        ``s.strip()``): still only what the caller passed."""
        if self._is_param(node) or self._command_line(node):
            return True  # (the program's arguments: what the user who runs it hands over)
        field = isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant | ast.Slice)
        if field or isinstance(node, ast.Attribute):
            # (not the object's own state: ``self.blob`` may be a constant of the package)
            base = node.value  # type: ignore[attr-defined]
            if isinstance(base, ast.Name) and base.id in ("self", "cls"):
                return False
            return depth <= 4 and self._from_param(base, depth + 1)
        if depth > 4 or not isinstance(node, ast.Call) or node.keywords:
            return False
        func = node.func
        return (
            isinstance(func, ast.Attribute)
            and all(isinstance(a, ast.Constant) for a in node.args)
            and self._from_param(func.value, depth + 1)
        )

    def _text_codec(self, call: ast.Call) -> bool:
        """``codecs.decode(data, "utf8")``: bytes read as text by a codec that keeps ASCII as
        it is (UTF-8, ASCII, Latin-1, cp1252), hiding nothing a reading of the bytes shows; not
        base64, hex, rot13, zlib, UTF-7 or UTF-16."""
        arg = call.args[1] if len(call.args) > 1 else None
        for k in call.keywords:
            if k.arg == "encoding":
                arg = k.value
        codec = self.folder.fold(arg) if arg is not None else "utf-8"  # the default
        if not isinstance(codec, str):
            return False
        try:
            return codecs.lookup(codec).name in ASCII_TEXT_CODECS
        except LookupError:
            return False

    def _trivial_input(self, call: ast.Call) -> bool:
        """True when a decoder's input is a known constant too short to hide code (a placeholder
        like ``_FRAMES = ""`` filled in by a code generator, or a test vector)."""
        if not call.args:
            return False
        value = self.folder.fold(call.args[0])
        return value is not None and len(value) < TRIVIAL_BLOB

    def _listed(self, node: ast.expr) -> bool:
        """A written-out collection of string constants (or the words of a constant string),
        or a name bound to one, naming no builtin that runs code."""
        if isinstance(node, ast.Name):
            return node.id in self.name_lists
        if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
            wraps = self.folder.resolve(node.func) in (
                "frozenset",
                "set",
                "tuple",
                "list",
                "sorted",
            )
            return wraps and self._listed(node.args[0])
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            words = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            return (
                bool(words)
                and len(words) == len(node.elts)
                and all(isinstance(w, str) for w in words)
                and not CODE_BUILTINS.intersection(words)
            )
        if (  # "sum len sorted".split(): the words of a constant
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "split"
            and not node.keywords
            and all(self.folder.fold(a) is not None for a in node.args)
        ):
            text = self.folder.fold(node.func.value)
            return (
                isinstance(text, str)
                and bool(text.split())
                and not CODE_BUILTINS.intersection(text.replace(",", " ").split())
            )
        return False

    def _builtin_classes(self, node: ast.comprehension) -> bool:
        """``for name in dir(builtins) if isinstance(getattr(builtins, name), type)``: the names
        of builtins' classes (its exceptions, say), never exec, eval or __import__ (functions)."""
        it, target = node.iter, node.target
        if not (
            isinstance(it, ast.Call)
            and isinstance(it.func, ast.Name)
            and it.func.id == "dir"
            and len(it.args) == 1
            and self.folder.resolve(it.args[0]) in BUILTIN_ALIASES
        ):
            return False
        tests = [  # every condition must hold: the parts of an `and`, never of an `or`
            v
            for c in node.ifs
            for v in (c.values if isinstance(c, ast.BoolOp) and isinstance(c.op, ast.And) else [c])
        ]
        return any(
            isinstance(t, ast.Call)
            and isinstance(t.func, ast.Name)
            and t.func.id == "isinstance"
            and len(t.args) == 2
            and isinstance(t.args[1], ast.Name)
            and t.args[1].id == "type"
            and isinstance(got := t.args[0], ast.Call)
            and isinstance(got.func, ast.Name)
            and got.func.id == "getattr"
            and len(got.args) == 2
            and isinstance(got.args[1], ast.Name)
            and isinstance(target, ast.Name)
            and got.args[1].id == target.id
            and self.folder.resolve(got.args[0]) in BUILTIN_ALIASES
            for t in tests
        )

    def _bind_loop(self, target: ast.expr, iterable: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self.name_lists.discard(target.id)
            if self._listed(iterable):
                self.listed_names.add(target.id)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self.visit(node.iter)
        self._bind_loop(node.target, node.iter)
        if isinstance(node.target, ast.Name) and self._builtin_classes(node):
            self.listed_names.add(node.target.id)
        self.visit(node.target)
        for cond in node.ifs:
            self.visit(cond)

    def _visit_comprehension_expr(self, node: ast.AST) -> None:
        # the loops first: what the element uses is bound by them
        for gen in node.generators:  # type: ignore[attr-defined]
            self.visit(gen)
        for name in ("key", "value", "elt"):
            part = getattr(node, name, None)
            if part is not None:
                self.visit(part)

    visit_ListComp = visit_SetComp = visit_DictComp = _visit_comprehension_expr
    visit_GeneratorExp = _visit_comprehension_expr

    def _bind(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self.listed_names.discard(target.id)
            if self._listed(value):
                self.name_lists.add(target.id)
            else:
                self.name_lists.discard(target.id)
        if isinstance(value, (ast.List, ast.Tuple, ast.Set)) and len(value.elts) > BIG_LITERAL:
            return
        if isinstance(value, ast.Dict) and len(value.keys) > BIG_LITERAL:
            return
        if isinstance(target, ast.Name):
            if self._from_param(value):
                # line = stream.readline(): still only what the caller handed in
                self.scope.params.add(target.id)
            else:
                self.scope.params.discard(target.id)  # rebound: no longer the caller's value
            if _setting_read(value):
                self.scope.settings.add(target.id)  # the key the application was configured with
            else:
                self.scope.settings.discard(target.id)
            if self._configured_address(value):
                self.scope.addresses.add(target.id)
            else:
                self.scope.addresses.discard(target.id)
            if isinstance(value, (ast.List, ast.Tuple)):
                items = self.folder._fold_items(value, 0)
                if items is not None:
                    self.scope.lists[target.id] = items
            folded = self.folder.fold(value)
            if folded is not None:
                self.scope.values[target.id] = folded
                self.scope.path_names.pop(target.id, None)
            else:
                self.scope.values.pop(target.id, None)
                prefix = ""
                if isinstance(value, (ast.JoinedStr, ast.BinOp)):
                    prefix = self._prefix(value)
                elif (
                    isinstance(value, ast.Call)
                    and self.folder.resolve(value.func) in REQUEST_BUILDERS
                ):
                    prefix = self._prefix(value)  # request = Request(f"http://host/{path}")
                if prefix:
                    self.scope.prefixes[target.id] = prefix
                else:
                    self.scope.prefixes.pop(target.id, None)
                # what it names when opened ("" kept too: a parent's binding is not this one)
                self.scope.path_names[target.id] = (
                    self._path_name(value, folded=False) if type(value) in _PATH_NODES else ""
                )
            if isinstance(value, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)):
                # x = os.system / x = __import__('os') / importlib.import_module('os') /
                # getattr(os, 'system') / x = vars(os)['system']
                resolved = self.folder.resolve(value)
                if resolved is not None:
                    self.scope.aliases[target.id] = resolved
                    self.folder.aliases_changed()
            if target.id in BUILTIN_NAMES and self.scope.aliases.get(target.id) is None:
                # `with open(p, "wb") as file`: a local now, no longer the builtin of that name
                self.scope.aliases[target.id] = UNKNOWN
                self.folder.aliases_changed()
            labels = self.labels_of(value)
            own = self.own_state and self.scope.path_names.get(target.id) in self.own_state
            if own and "home" in labels:
                labels = labels - {"home"}  # the package's own state file: not whose home it is
            if labels:
                self.scope.labels[target.id] = labels
        elif isinstance(target, (ast.Tuple, ast.List)):
            labels = self.labels_of(value)
            places = self._places(target, value, labels) if labels else None
            for i, elt in enumerate(target.elts):
                if isinstance(elt, ast.Name) and labels:
                    self.scope.labels[elt.id] = places[i] if places is not None else labels
            # a, (b, c) = param / for k, (n, code) in param.items(): still the caller's values
            handed = self._from_param(value)
            for name in _target_names(target):
                if handed:
                    self.scope.params.add(name)
                else:
                    self.scope.params.discard(name)
        elif isinstance(target, ast.Attribute) and _dotted(target) is not None:
            # self.token = secret -> self.token carries the label, not all of self
            labels = self.labels_of(value)
            key = _dotted(target)
            if labels and key is not None:
                self.scope.labels[key] = self.scope.label(key) | labels
                if HTTP_CLIENT in labels and key.startswith("self."):
                    self.client_attrs.add(key)  # set in __init__, fetched with in other methods
        elif isinstance(target, (ast.Subscript, ast.Attribute)):
            # d["k"] = secret  -> d carries the label
            base = target.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                labels = self.labels_of(value)
                if labels:
                    self.scope.labels[base.id] = self.scope.label(base.id) | labels

    def _request_for(self, value: ast.expr, params: list[ast.arg]) -> bool:
        """``value`` is a request object made for the function's first parameter
        (``Request(url, ...)``, ``Request(url=url)``)."""
        first = next((a.arg for a in params if a.arg not in ("self", "cls")), None)
        if first is None or not isinstance(value, ast.Call):
            return False
        if self.folder.resolve(value.func) not in REQUEST_BUILDERS:
            return False
        url = _url_arg(value)
        return isinstance(url, ast.Name) and url.id == first

    def _places(
        self, target: ast.Tuple | ast.List, value: ast.expr, labels: frozenset[str]
    ) -> list[frozenset[str]] | None:
        """Labels of each name a tuple assignment binds, when the value is a tuple written out
        (``a, b = token, url``) or a call of a local function that returns one of that length
        (``proc, url = spawn()``: what only another place returns is not this name's; what
        the call is given still is); None when the places are not known."""
        n = len(target.elts)
        if any(isinstance(e, ast.Starred) for e in target.elts):
            return None
        if isinstance(value, (ast.Tuple, ast.List)):
            if len(value.elts) != n or any(isinstance(e, ast.Starred) for e in value.elts):
                return None
            return [self.labels_of(e) for e in value.elts]
        if not isinstance(value, ast.Call):
            return None
        local = _local_callee(value.func)
        places = self.tuple_returns.get(local) if local is not None else None
        if places is None or len(places) != n:
            return None
        every = frozenset().union(*places)
        return [labels - (every - place) for place in places]

    def visit_Assign(self, node: ast.Assign) -> None:
        target = node.targets[0] if len(node.targets) == 1 else None
        if isinstance(node.value, ast.Lambda) and isinstance(target, ast.Name):
            self.lambda_names[id(node.value)] = target.id
        self.visit(node.value)
        for target in node.targets:
            self._bind(target, node.value)
            if not isinstance(target, ast.Name):
                self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self._bind(node.target, node.value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            name = node.target.id
            if isinstance(node.op, ast.Add):
                left = self.scope.value(name)
                right = self.folder.fold(node.value)
                if (isinstance(left, str) and isinstance(right, str)) or (
                    isinstance(left, bytes) and isinstance(right, bytes)
                ):
                    self.scope.values[name] = left + right
            labels = self.labels_of(node.value)
            if labels:
                self.scope.labels[name] = self.scope.label(name) | labels

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._bind(item.optional_vars, item.context_expr)
        for stmt in node.body:
            self.visit(stmt)

    visit_AsyncWith = visit_With

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self._bind(node.target, node.iter)
        self._bind_loop(node.target, node.iter)
        self.loops += 1
        try:
            for stmt in [*node.body, *node.orelse]:
                self.visit(stmt)
        finally:
            self.loops -= 1

    visit_AsyncFor = visit_For

    def visit_While(self, node: ast.While) -> None:
        self.loops += 1
        try:
            self.generic_visit(node)
        finally:
            self.loops -= 1

    # -- expressions -------------------------------------------------------------------------
    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant):
            return  # docstrings and bare strings are not evidence
        if isinstance(node.value, ast.Call):
            self.statement_call = node.value
        self.visit(node.value)

    def visit_Try(self, node: ast.Try) -> None:
        quiet = bool(node.handlers) and all(_swallows(h) for h in node.handlers)
        self.silenced += quiet
        try:
            for stmt in node.body:
                self.visit(stmt)
        finally:
            self.silenced -= quiet
        self.guarded += 1  # a handler runs only when the body failed
        try:
            for part in node.handlers:
                self.visit(part)
        finally:
            self.guarded -= 1
        for part in [*node.orelse, *node.finalbody]:
            self.visit(part)

    visit_TryStar = visit_Try

    def visit_keyword(self, node: ast.keyword) -> None:
        value = node.value
        if node.arg in DOC_KEYWORDS:
            # an option's help text, like a docstring, is read by people, not run (of an
            # f-string, only what it formats is code)
            if type(value) is _CONSTANT:
                return
            if isinstance(value, ast.JoinedStr):
                for part in value.values:
                    if isinstance(part, ast.FormattedValue):
                        self.visit(part)
                return
        self.visit(value)

    def visit_Constant(self, node: ast.Constant) -> None:
        # (generic_visit does not call this for other than strings and bytes of 4 or more)
        _note_constant(self.facts, node, self.func_stack[-1] if self.func_stack else None)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr == "environ":
            name = self.folder.resolve(node)
            if name in ENVIRONS:
                self.facts.env_reads.append((node.lineno, self.where, False))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        # a long method chain (``df.a().b().c()...``, a query builder's hundred links) is a list,
        # not nesting: its links are walked one by one at this depth, in the order the nested
        # walk takes (each link's own call first, outermost to innermost; then the innermost's
        # receiver; then each link's arguments, innermost to outermost)
        links = _chain_links(node)
        if links is None:
            self._call(node)
            self.generic_visit(node)
            return
        for link in links:
            self._call(link)
        self.visit(links[-1].func)
        for link in reversed(links):
            for arg in link.args:
                self.visit(arg)
            for keyword in link.keywords:
                self.visit(keyword)

    def _call(self, node: ast.Call) -> None:
        """What one call records, without walking into its parts."""
        name = self.folder.resolve(node.func)
        func = node.func
        if (
            name is None
            and isinstance(func, ast.Attribute)
            and func.attr in SOCKET_CALLS
            and SOCKET in self.labels_of(func.value)
        ):
            name = "socket.socket." + func.attr  # s = socket.socket(); s.sendall(data)
        if (
            name is None
            and isinstance(func, ast.Attribute)
            and func.attr in SOCKET_CALLS
            and LOCAL_SOCKET in self.labels_of(func.value)
        ):
            name = "socket.unix." + func.attr  # s = socket.socket(AF_UNIX); s.connect(path)
        elif name == "socket.socket" and self._local_socket(node, name):
            name = "socket.unix.socket"
        if (
            name is None
            and isinstance(func, ast.Attribute)
            and func.attr in MAIL_SENDS
            and MAILER in self.labels_of(func.value)
        ):
            name = "smtplib.SMTP." + func.attr  # s = smtplib.SMTP(host); s.sendmail(a, b, msg)
        if (
            name is None
            and isinstance(func, ast.Attribute)
            and func.attr in CLIENT_SENDS
            and self.makes_clients
            and (
                HTTP_CLIENT in self.labels_of(func.value)
                or _dotted(func.value) in self.client_attrs
            )
        ):
            name = CLIENT_METHOD + func.attr  # s = requests.Session(); s.post(url, data=...)
        if name is None and isinstance(func, ast.Attribute) and func.attr in WATCHED_METHODS:
            held = (
                self.labels_of(func.value)
                if self.makes_buffers and func.attr in WRITE_METHODS
                else _NO_LABELS
            )
            if MEMORY_BUFFER in held and "file" not in held:
                # buf = io.BytesIO(); buf.write(data): into memory (not a buffer or a file
                # chosen at run time, ``io.BytesIO() if test else open(path, "wb")``)
                name = MEMORY_WRITES + func.attr
            else:
                name = "?." + node.func.attr
        if name is not None and self._watched(name):
            self._record(node, name)
        if name in ARCHIVE_OPENERS and self._opens_download(node):
            self.facts.unpacks_download.add(self.func_stack[-1] if self.func_stack else None)
        if name in CALLBACK_SLOTS or self.sink_candidates:
            self._indirect_sink(node, name)
        if self.send_candidates:
            self._indirect_send(node)
        if (
            name == "getattr"
            and len(node.args) >= 2
            and self.folder.fold(node.args[1]) is None
            and not (isinstance(node.args[1], ast.Name) and node.args[1].id in self.listed_names)
            and id(node) not in self.tested
        ):
            base = self.folder.resolve(node.args[0])
            if base in BUILTIN_ALIASES:
                self.facts.dynamic_builtins.append((node.lineno, self.where))
        if name in TYPE_TESTS:
            # callable(getattr(builtins, n)): what a lookup finds, only tested, is never called
            self.tested.update(id(a) for a in node.args if isinstance(a, ast.Call))
        if self.where != WHERE_MAINTAINER:
            # the main block's calls run when the file is run as a script (``MAIN_CALLER``)
            top = MAIN_CALLER if self.where == WHERE_MAIN else MODULE_CALLER
            caller = self.func_stack[-1] if self.func_stack else top
            firm = self.guarded == 0
            if isinstance(func, ast.Name):
                self.call_edges.setdefault(caller, set()).add(func.id)
                if firm:
                    self.facts.firm_edges.setdefault(caller, set()).add(func.id)
            if name in RUNS_CALLBACK:  # Thread(target=f).start(), atexit.register(f): f runs
                for arg in [*node.args, *(k.value for k in node.keywords if k.arg == "target")]:
                    if isinstance(arg, ast.Name):
                        self.call_edges.setdefault(caller, set()).add(arg.id)
                        if firm:
                            self.facts.firm_edges.setdefault(caller, set()).add(arg.id)
                    started = self._imported_target(arg) if isinstance(arg, ast.Name) else None
                    if started:  # Thread(target=f) with f from another module of the package
                        self.facts.external_calls.setdefault(caller, set()).add(started)
                        if firm:
                            self.facts.firm_external.setdefault(caller, set()).add(started)
            target = self._imported_target(func) or name
            if target is not None and "." in target:
                self.facts.external_calls.setdefault(caller, set()).add(target)
                if firm:
                    self.facts.firm_external.setdefault(caller, set()).add(target)

    def _local_socket(self, node: ast.Call, name: str) -> bool:
        """``socket.socket(socket.AF_UNIX, ...)`` (or ``family=AF_UNIX``)."""
        if name != "socket.socket":
            return False
        family = node.args[0] if node.args else None
        for k in node.keywords:
            if k.arg == "family":
                family = k.value
        return family is not None and self.folder.resolve(family) == "socket.AF_UNIX"

    def _opens_download(self, node: ast.Call) -> bool:
        parts = [*node.args, *(k.value for k in node.keywords)]
        return any("download" in self.labels_of(a) for a in parts)

    def _imported_target(self, func: ast.expr) -> str | None:
        """``.mod.f`` for ``f()`` or ``mod.f()`` when ``f``/``mod`` came from a relative import."""
        attrs: list[str] = []
        while isinstance(func, ast.Attribute):
            attrs.append(func.attr)
            func = func.value
        if isinstance(func, ast.Name) and func.id in self.relative:
            return ".".join([self.relative[func.id], *reversed(attrs)])
        return None

    def _python_c(self, arg: ast.expr, folded: str | None) -> str | None:
        """The code of ``python -c CODE`` given as an argument list or a shell string."""
        if isinstance(arg, (ast.List, ast.Tuple)):
            items = self.folder._fold_items(arg, 0)
            if items:
                texts = [_text(i) for i in items]
                if "-c" in texts[:-1]:
                    return texts[texts.index("-c") + 1]
            return None
        if folded:
            m = PYTHON_C.search(folded)
            return m.group(2) if m else None
        return None

    def _watched(self, name: str) -> bool:
        root = name.split(".", 1)[0]
        if root in WATCHED_ROOTS or name in BUILTINS or root == "?":
            return True
        return name.rpartition(".")[2] in WRITE_METHODS  # file.write(...) on any object

    def _reads_password_on_stdin(self, node: ast.Call) -> bool:
        """A command list naming a fixed program that is no shell or interpreter, with a flag
        saying it reads a password or token on standard input (``--password-stdin``)."""
        command = node.args[0] if node.args else None
        if not isinstance(command, (ast.List, ast.Tuple)) or not command.elts:
            return False
        words = [self.folder.fold(e) for e in command.elts]
        program = words[0]
        if not isinstance(program, str) or CODE_READERS.match(program.replace("\\", "/")):
            return False
        return any(isinstance(w, str) and PASSWORD_ON_STDIN.fullmatch(w) for w in words[1:])

    def _program(self, node: ast.Call, name: str) -> str:
        """The program item of a process call's command list (see ``CallFact.program``)."""
        command = node.args[0] if node.args else None
        if not name.startswith(PROGRAM_RUNNERS) or not isinstance(command, (ast.List, ast.Tuple)):
            return ""
        first = command.elts[0] if command.elts else None
        if first is None or isinstance(first, ast.Starred):
            return ""
        folded = self.folder.fold(first)
        program = _text(folded) if folded is not None else ""
        if folded is None:
            if any(k.arg == "input" for k in node.keywords):
                return ""  # what an unknown program reads on stdin may be its program (a shell's)
            program = ast.unparse(first)[:120]
        if len(command.elts) > 2 and self.folder.fold(command.elts[1]) == "-m":
            module = self.folder.fold(command.elts[2])  # [sys.executable, "-m", "tool", ...]
            if isinstance(module, str) and re.fullmatch(r"[\w.]+", module):
                return f"{program} -m {module}"
        return program

    def _program_labels(self, node: ast.Call) -> frozenset[str]:
        """Labels of the program item ``_program`` names."""
        return self.labels_of(node.args[0].elts[0])  # type: ignore[attr-defined]

    def _sent_labels(self, name: str, index: int, arg: ast.expr) -> frozenset[str]:
        """Labels of one argument of a call. The program a process runs (the first item of its
        command list: ``[python, "-m", "pip", ...]``) is not data handed to anyone: where its
        path came from (the environment, the home folder) is not sent; what it runs still is.
        Nor is the local file a download is saved to."""
        if not index and name.startswith(URL_FIRST_ROOTS) and self._configured_address(arg):
            return _NO_LABELS  # the address the user configured is where it goes, not what
        if index and name.endswith(DOWNLOAD_TO_FILE):
            # urlretrieve(url, path): the file it saves to is on this machine, not sent
            return self.labels_of(arg) - PROGRAM_PATH_LABELS
        runner = index == 0 and name.startswith(PROGRAM_RUNNERS)
        if runner and isinstance(arg, (ast.List, ast.Tuple)) and arg.elts:
            first = arg.elts[0]
            if not isinstance(first, ast.Starred):
                program = self.labels_of(first) - PROGRAM_PATH_LABELS
                return program.union(*(self.labels_of(e) for e in arg.elts[1:]))
        return self.labels_of(arg)

    def _address(self, node: ast.Call) -> dict[str, str]:
        """``CallFact.address`` and ``address_via`` of a call."""
        first = _url_arg(node)
        if first is None or isinstance(first, ast.Starred):
            return {}
        via = ""
        if isinstance(first, ast.Call) and first.args:
            local = _local_callee(first.func)
            if local is not None and local in self.defs:
                via, first = local, first.args[0]
        prefix = self._prefix(first)
        return {"address": prefix, "address_via": via} if prefix else {}

    def _target_labels(self, node: ast.Call) -> frozenset[str]:
        """Labels of where a call goes: its first argument, its ``url=``/``host=``/``address=``,
        and the object a method is called on (a connection or session made for a host)."""
        parts = [*node.args[:1], *(k.value for k in node.keywords if k.arg in TARGET_KWARGS)]
        if isinstance(node.func, ast.Attribute):
            parts.append(node.func.value)
        out = frozenset().union(*(self.labels_of(p) for p in parts))
        for part in parts:  # ``post(self.webhook, ...)``: what any method set the address to
            if (
                isinstance(part, ast.Attribute)
                and isinstance(part.value, ast.Name)
                and part.value.id in ("self", "cls")
            ):
                out = out.union(*(self.labels_of(v) for v in self._values_of_attribute(part.attr)))
        return out

    def _record(self, node: ast.Call, name: str) -> None:
        args: list[str | None] = []
        for a in node.args[:4]:
            v = self.folder.fold(a)
            args.append(None if v is None else _text(v))
        kwargs = []
        for kw in node.keywords[:8]:
            if kw.arg is None:
                continue
            v = self.folder.fold(kw.value)
            kwargs.append((kw.arg, None if v is None else _text(v)))
        labels: frozenset[str] = frozenset()
        if name.split(".", 1)[0] in SINK_ROOTS or name in SINK_BUILTINS:
            labels = labels.union(*(self._sent_labels(name, i, a) for i, a in enumerate(node.args)))
            kept = TRANSPORT_KWARGS
            if name.endswith(DOWNLOAD_TO_FILE):
                kept = TRANSPORT_KWARGS | {"filename", "out"}  # where the file goes: not sent
            # docker login --password-stdin: what ``input=`` feeds it is a password, never a
            # program; it still counts as sent (secrets keep their labels)
            password = name.startswith("subprocess.") and self._reads_password_on_stdin(node)
            # a request to the address the user configured: the token it authenticates with
            # (headers=, auth=), from the environment too, goes to the user's own service
            own_service = name.startswith(URL_FIRST_ROOTS) and any(
                self._configured_address(v)
                for v in [*node.args[:1], *(k.value for k in node.keywords if k.arg == "url")]
            )
            for k in node.keywords:
                if (
                    k.arg == "url"
                    and name.startswith(URL_FIRST_ROOTS)
                    and self._configured_address(k.value)
                ):
                    continue  # url=os.getenv("SERVICE_URL"): where it goes, not what
                if k.arg not in kept:
                    fed = self.labels_of(k.value)
                    if own_service and k.arg in AUTH_KWARGS:
                        fed = fed - {"secret"}
                    labels = labels | (
                        fed & SENT_ON_STDIN if password and k.arg == "input" else fed
                    )
            if name in OWN_NAME_LOOKUPS and node.args and self._own_host_name(node.args[0]):
                # gethostbyname(gethostname()): this host's own address, asked of the resolver
                # it is configured with; no one's zone learns anything (a DNS leak puts the
                # name under a domain: f"{gethostname()}.collector.example")
                labels = labels - {"fingerprint"}
            if name in ROUND_TRIP_LOADS and node.args and self._serialised(node.args[0]):
                labels = frozenset()  # pickle.loads(pickle.dumps(obj)): a copy, not new code
            if labels & NAMED_SECRET_LABELS:
                # a value named as a credential or a key counts as sent when it is in what is
                # sent, not in how the request authenticates itself (headers=, auth=): an API
                # key held in ``private_key`` goes in an Authorization header
                sent = frozenset().union(
                    *(self.labels_of(a) for a in node.args),
                    *(
                        self.labels_of(k.value)
                        for k in node.keywords
                        if k.arg not in TRANSPORT_KWARGS and k.arg not in AUTH_KWARGS
                    ),
                )
                labels = labels - (NAMED_SECRET_LABELS - sent)
        if self.track_home and not self.own_state:
            self._note_home_write(node, name, args, kwargs)
        computed = bool(node.args) and not isinstance(node.args[0], ast.Constant)
        program = self._program(node, name) if labels else ""
        # (read by one rule, on host identity sent: worked out only then)
        target = self._target_labels(node) if "fingerprint" in labels else _NO_LABELS
        fact = CallFact(
            name=name,
            line=node.lineno,
            where=self.where,
            func=self.func_stack[-1] if self.func_stack else None,
            class_bases=self.class_stack[-1] if self.class_stack else (),
            args=tuple(args),
            kwargs=tuple(kwargs),
            labels=labels,
            text=_excerpt(self.lines, node.lineno, node.end_lineno),
            computed_first_arg=computed,
            first_arg_prefix=self._prefix(node.args[0]) if node.args and not args[0] else "",
            quiet=self.silenced > 0 and node is self.statement_call,
            guarded=self.guarded > 0,
            arms=self.arms,
            program=program,
            program_labels=self._program_labels(node) if program else _NO_LABELS,
            path_name=self._path_name(node.args[0])
            if name in FILE_OPENERS and node.args and not args[0]
            else "",
            target_labels=target,
            **(self._address(node) if labels else {}),
        )
        self.facts.calls.append(fact)
        # a literal exec("print(1)") is not a hidden payload, but longer literal code is analysed
        # as code all the same (the rules tell the two apart: FileContext.hidden_payload_lines)
        code = args[0] if name in ("exec", "eval", "compile", "execfile") and args else None
        if code and (computed or len(code) >= 16):
            self.facts.payloads.append((node.lineno, code))
        written = writes_file(name)
        if written and args and args[0] and len(args[0]) >= 16:
            func = self.func_stack[-1] if self.func_stack else None
            self.facts.written.append((node.lineno, func, args[0]))
        if name.startswith(("subprocess.", "os.system", "os.popen", "os.spawn")) and node.args:
            code = self._python_c(node.args[0], args[0])
            if code:  # `python -c CODE` run as a process: analyse CODE like any payload
                self.facts.payloads.append((node.lineno, code))
        if name in DECODER_NAMES and args and args[0] is not None:
            self.facts.decoded.append((node.lineno, name))
            decoded = self.folder.fold(node)
            if decoded is not None and len(decoded) >= 8:
                self.facts.strings.append((node.lineno, _text(decoded)))
        if name.endswith(DOWNLOAD_TO_FILE):
            # urlretrieve(url, path), wget.download(url, out=path): the file at `path` is
            # downloaded content from here on
            dest = node.args[1] if len(node.args) > 1 else None
            for kw in node.keywords:
                if kw.arg in ("filename", "out"):
                    dest = kw.value
            if isinstance(dest, ast.Name):
                self.scope.labels[dest.id] = self.scope.label(dest.id) | self._downloaded(node)
        if name == "setup" or name.endswith(".setup"):
            self.facts.setup_kwargs.update(k.arg for k in node.keywords if k.arg)
        for a in node.args:  # folded concatenations are strings too (indicators, paths)
            if not isinstance(a, ast.Constant):
                v = self.folder.fold(a)
                if isinstance(v, str) and len(v) >= 6:
                    self.facts.strings.append((node.lineno, v))


_LOGGERS = re.compile(r"^(print|(\w+\.)*(debug|info|warning|warn|error|exception|log))$")


def _swallows(handler: ast.ExceptHandler) -> bool:
    """An ``except`` clause that only passes, continues, returns nothing or prints a line."""
    for stmt in handler.body:
        if isinstance(stmt, (ast.Pass, ast.Continue, ast.Break)):
            continue
        if isinstance(stmt, ast.Return) and (
            stmt.value is None or isinstance(stmt.value, ast.Constant)
        ):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            func = _dotted(stmt.value.func) or getattr(stmt.value.func, "id", "")
            if _LOGGERS.match(func or ""):
                continue
        return False
    return True


def _call_like(
    node: ast.Call, func: ast.expr, args: list[ast.expr], keywords: list[ast.keyword]
) -> ast.Call:
    """A call of ``func`` with ``args`` at ``node``'s place in the source (never executed)."""
    call = ast.Call(func=func, args=args, keywords=keywords)
    return ast.copy_location(call, node)


MAX_WALK_DEPTH = 150  # nesting the walk follows (each level costs a few Python frames)
CHAIN_FLAT = 16  # links of a method chain from which it is walked as a list
LABEL_RECURSION = 60  # labels_of recurses this deep, then continues with an explicit stack
MAX_INCOMPLETE = 5  # parts not analysed recorded per file

# Node types whose visit does nothing: no visit_ method and no child that one would have.
_NOOP_TYPES = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop, ast.Name)
_UNSEEN = object()
# what a fetch returns (``_Collector._downloaded``), and the labels of an address that make it
# hidden rather than given (decoded, deciphered, or itself received)
_FIXED_DOWNLOAD = frozenset({"download", FIXED_SOURCE})
_GIVEN_DOWNLOAD = frozenset({"download"})
_ADDRESS_FROM_ELSEWHERE = frozenset({"decoded", "download", "remote", DECIPHERED})
# Node types whose labels are always empty (no own labels, no children that could have any).
_LABEL_FREE = (ast.Constant, ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)
_NO_LABELS = NO_LABELS
_LABEL_ORIGINS = (ast.Name, ast.Attribute, ast.Call)
# what ``labels_of`` asks of a node's type, as bits
_FREE, _ORIGIN, _READS_CONFIG, _BINOP, _CALL, _ATTRIBUTE, _NAME = 1, 2, 4, 8, 16, 32, 64
_SUBSCRIPT = 128


class _LabelKinds(dict):
    """Node type -> ``labels_of``'s isinstance answers for it (worked out on the first lookup)."""

    def __missing__(self, kind: type) -> int:
        bits = 0
        for bit, types in (
            (_FREE, _LABEL_FREE),
            (_ORIGIN, _LABEL_ORIGINS),
            (_READS_CONFIG, (ast.Call, ast.Subscript)),
            (_BINOP, ast.BinOp),
            (_CALL, ast.Call),
            (_ATTRIBUTE, ast.Attribute),
            (_NAME, ast.Name),
            (_SUBSCRIPT, ast.Subscript),
        ):
            if issubclass(kind, types):
                bits |= bit
        self[kind] = bits
        return bits


_LABEL_KINDS: dict[type, int] = _LabelKinds()
# fields that only ever hold names, numbers, flags, contexts or operators: never a labelled value
_SCALAR_FIELDS = frozenset(
    {"ctx", "op", "ops", "id", "attr", "arg", "conversion", "kind", "type_comment", "level"}
)


class _ChildFields(dict):
    """Node type -> its fields that can hold expressions (worked out on the first lookup)."""

    def __missing__(self, kind: type) -> tuple[str, ...]:
        fields = tuple(f for f in kind._fields if f not in _SCALAR_FIELDS)  # type: ignore[attr-defined]
        self[kind] = fields
        return fields


_CHILD_FIELDS: dict[type, tuple[str, ...]] = _ChildFields()
# fields a value's labels flow from: a conditional expression is one of its branches, never its
# condition (``"dynamic-" if os.environ.get(NAME) else ""`` holds no variable's value)
_LABEL_FIELDS: dict[type, tuple[str, ...]] = _ChildFields({ast.IfExp: ("body", "orelse")})


class _NodeFields(dict):
    """``_CHILD_FIELDS`` for any type: none for what is not a node (a name, a number)."""

    def __missing__(self, kind: type) -> tuple[str, ...]:
        fields = _CHILD_FIELDS[kind] if issubclass(kind, ast.AST) else ()
        self[kind] = fields
        return fields


_NODE_FIELDS: dict[type, tuple[str, ...]] = _NodeFields()


def _label_children(node: ast.AST) -> list[ast.AST]:
    """The child nodes a value's labels flow from (``_LABEL_FIELDS``), in field order."""
    out: list[ast.AST] = []
    for name in _LABEL_FIELDS[type(node)]:
        value = getattr(node, name, None)
        out.extend(
            v for v in (value if isinstance(value, list) else (value,)) if isinstance(v, ast.AST)
        )
    return out


def _target_names(target: ast.expr) -> list[str]:
    """The names an unpacking target binds (``a, (b, *c)``)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for elt in target.elts for n in _target_names(elt)]
    return []


def walk(root: ast.AST, skip: frozenset[int] | set[int] = frozenset()) -> list[ast.AST]:
    """``ast.walk``'s nodes in its order (breadth first, fields in order), without contexts and
    operators (``_SCALAR_FIELDS``), as a list: a loop instead of three nested generators.
    ``skip``: ids of nodes left out, with everything under them."""
    out = [root]
    fields = _CHILD_FIELDS
    i = 0
    while i < len(out):
        node = out[i]
        i += 1
        for name in fields[type(node)]:
            value = getattr(node, name, None)
            if isinstance(value, list):
                out.extend(
                    item for item in value if isinstance(item, ast.AST) and id(item) not in skip
                )
            elif isinstance(value, ast.AST) and id(value) not in skip:
                out.append(value)
    return out


CONFIG_OBJECT = re.compile(r"(^|_)(config|conf|cfg|settings|options)$", re.I)


def _setting_read(value: ast.expr) -> bool:
    """``app.config["KEY"]``, ``settings.get("KEY")``, ``settings.KEY``: an item of the
    application's configuration (a name like ``private_key`` bound to it is a setting the user
    gave for the service it is sent to, not a wallet key found on the host)."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
        if value.func.attr != "get":
            return False
        value = value.func.value
    elif isinstance(value, (ast.Subscript, ast.Attribute)):
        value = value.value
    else:
        return False
    last = value.attr if isinstance(value, ast.Attribute) else getattr(value, "id", "")
    return bool(last) and CONFIG_OBJECT.search(last) is not None


WALLET_NAMED, CREDENTIAL_NAMED = 1, 2


@functools.lru_cache(maxsize=8192)
def _secret_name(identifier: str) -> int:
    """What an identifier's name says it holds: ``WALLET_NAMED`` (``WALLET_SECRET``) and
    ``CREDENTIAL_NAMED`` (``CREDENTIAL_NAME``) bits. Asked for every name an expression reads,
    of a few thousand distinct ones a file: cached."""
    wallet = WALLET_NAMED if WALLET_SECRET.search(identifier) else 0
    return wallet | (CREDENTIAL_NAMED if CREDENTIAL_NAME.search(identifier) else 0)


_CONSTANT = ast.Constant
_DISPATCH: dict[type, Callable[[_Collector, Any], None] | None] = {}


def _dispatch_for(kind: type) -> Callable[[_Collector, Any], None] | None:
    """The collector's method for a node type (None when visiting it is a no-op), cached."""
    method = getattr(_Collector, "visit_" + kind.__name__, None)
    if method is None:
        method = None if issubclass(kind, _NOOP_TYPES) else _Collector.generic_visit
    _DISPATCH[kind] = method
    return method


PYTHON_C = re.compile(r"""python[0-9.]*(?:\.exe)?["']?\s+-c\s+(["'])(.+?)\1""", re.S)


def _text(v: str | bytes) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else v


def _note_constant(facts: ModuleFacts, node: ast.Constant, func: str | None) -> None:
    """A string or bytes constant of 4 characters or more, noted among ``facts.strings`` (and
    ``literals``, from 16), as the rules read the file's text: ``func`` is the function it is in."""
    value = node.value
    if isinstance(value, str):
        _note_text(facts, node.lineno, value, func)
    elif isinstance(value, bytes):
        _note_text(facts, node.lineno, value.decode("latin-1"), func, is_bytes=True)


def _note_text(
    facts: ModuleFacts, line: int, text: str, func: str | None, *, is_bytes: bool = False
) -> None:
    """A literal's text (bytes read as Latin-1) noted as ``_note_constant`` says, when it has
    4 characters or more; bytes are no code literal (``literals``, ``string_scope``)."""
    if len(text) < 4:
        return
    facts.strings.append((line, text))
    if not is_bytes:
        facts.string_scope.setdefault(line, func)
        if len(text) >= 16:
            facts.literals.add(text)


# a comment, or the start of a string literal: its prefix and its opening quote
_LITERAL_START = re.compile(r"#[^\n]*|([rRbBuUfF]{0,2})('\'\'|\"\"\"|'|\")")


def _literal_end(text: str, start: int, quote: str) -> int | None:
    """The index past the quote closing a literal whose body starts at ``start`` (the end of
    the text for an unclosed triple quote), or None for a one-line literal that meets a line's
    end first."""
    at = start
    while True:
        close = text.find(quote, at)
        if len(quote) == 1:
            newline = text.find("\n", at)
            if close < 0 or 0 <= newline < close:
                return None
        elif close < 0:
            return len(text)
        escapes = close
        while escapes > start and text[escapes - 1] == "\\":
            escapes -= 1
        if (close - escapes) % 2 == 0:  # not escaped: an even run of backslashes before it
            return close + len(quote)
        at = close + 1


def constant_facts(text: str) -> ModuleFacts:
    """Facts of code that nothing installed runs (tests, docs, examples that no running code
    names): its string constants only, for the rules that read what a file holds (addresses,
    webhooks, obfuscator marks). Its calls and data flow are not followed (see ``analyze``).

    Read lexically, not parsed (a fourth of the time of a parse on these files, which are a
    large share of many sdists): comments are skipped, each literal's escapes are resolved,
    literals next to each other joined as Python joins them. An f-string is kept as written
    (its ``{...}`` parts included)."""
    found: list[tuple[int, str, bool]] = []  # (line, value, bytes?)
    search = _LITERAL_START.search
    pos, line, counted, joinable = 0, 1, 0, -1
    while (m := search(text, pos)) is not None:
        quote = m.group(2)
        if quote is None:  # a comment
            pos = m.end()
            continue
        end = _literal_end(text, m.end(), quote)
        if end is None:
            pos = m.end()
            continue
        prefix = m.group(1).lower()
        value: str | bytes = text[m.end() : end - len(quote)]
        if "\\" in value and "r" not in prefix and "f" not in prefix:
            with contextlib.suppress(ValueError, SyntaxError, MemoryError):
                value = ast.literal_eval(text[m.start() : end])
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        line += text.count("\n", counted, m.start())
        counted = m.start()
        if found and not text[joinable : m.start()].replace("\\\n", "").strip():
            first, before, is_bytes = found.pop()  # "a" "b": one literal, as Python reads it
            found.append((first, before + value, is_bytes))
        else:
            found.append((line, value, "b" in prefix))
        joinable = pos = end
    facts = ModuleFacts(parsed=True)
    for line, value, is_bytes in found:
        _note_text(facts, line, value, None, is_bytes=is_bytes)
    return facts


def collect(
    source: str, imported: ImportedReturns | None = None, tree: ast.Module | None = None
) -> ModuleFacts | None:
    """Facts of one Python source, or None when it does not parse.

    ``imported`` gives the labels that functions of other modules return (cross-module flow);
    ``tree``, the source already parsed (its tree is only read).
    """
    if tree is None:
        tree = parse_python(source)
    if tree is None:
        return None
    collector = _Collector(source, imported)
    try:
        collector.visit(tree)
    except RecursionError:  # never expected (visit catches it per node): still not silence
        collector.incomplete(tree, "an expression too deeply nested to follow")
    if collector.written_home and any(
        "home" in c.labels and c.name.split(".", 1)[0] not in _LOCAL_FILE_ROOTS
        for c in collector.facts.calls
    ):
        # a file it writes under the home folder and whose path then reaches a call: read
        # again, knowing that file as its own state (an ID it made, settings it saved)
        collector = _Collector(source, imported, own_state=frozenset(collector.written_home))
        try:
            collector.visit(tree)
        except RecursionError:
            collector.incomplete(tree, "an expression too deeply nested to follow")
    collector.facts.call_edges = collector.call_edges
    returns, calls = _resolve_pending(collector.returns, collector.facts.calls)
    collector.facts.returns = returns
    collector.facts.calls = calls
    for line, code, _runner in written_and_run(collector.facts):
        if looks_like_python(code):
            collector.facts.payloads.append((line, code))  # a dropped script: analysed as code
    collector.facts.run_on_load = reachable(collector.call_edges)
    collector.facts.firm_on_load = reachable(collector.facts.firm_edges)
    collector.facts.import_stops = import_stops_at(tree)
    return collector.facts


# Calls that run a file or code: a script written just before is run by them
RUNNERS = (
    "os.system",
    "os.popen",
    "os.startfile",
    "os.exec",
    "os.spawn",
    "subprocess.",
    "runpy.run_path",
    "execfile",
    "exec",
    "imp.load_source",
    "importlib.import_module",
    "__import__",
    "pty.spawn",
    "asyncio.create_subprocess",
)
_SCRIPT_MARKERS = re.compile(
    r"^#!|@echo off|^\s*(powershell|cmd\s+/c|start\s|curl\s|wget\s|chmod\s)", re.I | re.M
)


def looks_like_python(text: str) -> bool:
    """Text that parses as Python and calls something (not a sentence that happens to parse)."""
    if "(" not in text or len(text) > 200_000:
        return False
    tree = parse_python(text, newer=False)  # a string that might be code: this parser only
    if tree is None:
        return False
    return any(isinstance(n, ast.Call) for n in ast.walk(tree))


def looks_like_script(text: str) -> bool:
    """Python, or a shell/batch/PowerShell script."""
    return _SCRIPT_MARKERS.search(text[:4000]) is not None or looks_like_python(text)


def written_and_run(facts: ModuleFacts) -> list[tuple[int, str, CallFact]]:
    """(line, text, runner) of code written to a file, then run by the same function (or
    module-level code): a process, ``exec``/``runpy`` or an import follows the write."""
    out: list[tuple[int, str, CallFact]] = []
    for line, func, text in facts.written[:20]:
        runner = next(
            (
                c
                for c in facts.calls
                if c.func == func and c.line >= line and c.name.startswith(RUNNERS)
            ),
            None,
        )
        if runner is not None and looks_like_script(text):
            out.append((line, text, runner))
    return out


def reachable(edges: dict[str, set[str]], roots: Iterable[str] = ()) -> frozenset[str]:
    """Local functions that module-level code (or ``roots``) calls, directly or through others.
    (``MAIN_CALLER`` as a root: what the file's main block calls, for a file run as a script.)"""
    seen: set[str] = set()
    todo = [*edges.get(MODULE_CALLER, ()), *roots]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(edges.get(name, ()))
    return frozenset(seen)
