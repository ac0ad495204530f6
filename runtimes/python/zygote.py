"""lambkin's python fork server: one process per interpreter that has
imported the bootstrap, the standard modules it uses and boto3 (with the
models of the services lambkin serves loaded), and forks every new
instance from there, so an instance imports only its function's code and
shares the rest copy-on-write.

lambkin starts it as `python3 -u bootstrap.py` with LAMBKIN_ZYGOTE_FD set:
that fd takes one request per SOCK_SEQPACKET message,

    cwd NUL sandbox-arg NUL ... NUL NUL env-var NUL env-var ...

with the instance's stdout, stderr and (under fuzz) sink report passed as
fds, and answers "ok PID" or "error TEXT". It says "ready" first, once
everything is loaded. LAMBKIN_ZYGOTE_FD + 1 carries
"PID STATUS SIGNAL" for each instance that exits. The forked process then
sets what differs per instance (fds, session, file system, cwd,
environment, sys.path, random seeds) and runs bootstrap.main(), seeing
what an instance started by exec sees.
"""
import array
import ctypes
import gc
import os
import selectors
import socket
import sys
import time
import weakref

MAX_REQUEST = 256 * 1024
# The third-party packages preloaded here: a function that ships its own
# copy of any of them (a requirements.txt with boto3, a layer) gets its own,
# imported fresh, as it would be without a fork server.
PRELOADED = ("boto3", "botocore", "s3transfer", "urllib3", "dateutil",
             "jmespath", "six")
SERVICES = ("s3", "sqs", "logs", "dynamodb", "dynamodbstreams", "sns",
            "events", "kinesis", "lambda", "sts")
RESOURCES = ("s3", "dynamodb", "sqs", "sns")
# What differs between instances and botocore reads only when it signs.
PER_INSTANCE = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN")


class PathList(list):
    """A loader's search paths, shared by every session: a path already
    there is not added again."""

    def append(self, path):
        if path not in self:
            super().append(path)


def kwargs_cache(accepts_kwargs):
    """botocore's check that a handler takes **kwargs, once per function:
    keyed weakly by the function under a bound method, so the handlers of
    clients made and dropped (and the clients) are not kept alive."""
    known = weakref.WeakKeyDictionary()

    def cached(func):
        key = getattr(func, "__func__", func)
        try:
            return known[key]
        except (KeyError, TypeError):
            pass
        answer = accepts_kwargs(func)
        try:
            known[key] = answer
        except TypeError:  # not weakly referable: asked each time
            pass
        return answer

    return cached


def preload(bootstrap):
    """boto3 with its models in memory, and the caches botocore keeps per
    session made per process, so a new session (boto3.client() at a
    module's top) finds them filled. None of it changes what a client
    does: each cache is keyed by everything its value depends on."""
    try:
        import botocore.compat
        import botocore.hooks
        import botocore.loaders
        import botocore.session
        import boto3  # noqa: F401
    except ImportError:
        return
    loaders = {}
    create = botocore.loaders.create_loader

    def create_loader(search_path_string=None):
        key = (search_path_string, os.environ.get("AWS_DATA_PATH"))
        if key not in loaders:
            loaders[key] = create(search_path_string)
            # every boto3.Session appends its data folder to its loader's
            # paths: once to a loader of its own, once only to this one
            loaders[key]._search_paths = PathList(
                loaders[key]._search_paths)
        return loaders[key]

    botocore.loaders.create_loader = create_loader
    botocore.session.create_loader = create_loader
    botocore.hooks.accepts_kwargs = kwargs_cache(
        botocore.compat.accepts_kwargs)
    aliaser = getattr(botocore.hooks, "EventAliaser", None)
    if aliaser and hasattr(aliaser, "_alias_event_name"):
        aliased = {}
        init = aliaser.__init__

        def shared_aliases(self, event_emitter, event_aliases=None):
            init(self, event_emitter, event_aliases)
            if event_aliases is None:  # the default aliases: one answer each
                self._alias_name_cache = aliased

        aliaser.__init__ = shared_aliases
    bootstrap.point_at_endpoint(botocore.session)
    # Resources made through boto3, so that what it imports for them (the
    # resource models) is imported here; clients are made just below.
    warm = boto3.Session(aws_access_key_id="AKIDPRELOAD",
                         aws_secret_access_key="preload",
                         region_name="us-east-1")
    for name in RESOURCES:
        try:
            warm.resource(name, endpoint_url="http://127.0.0.1:9")
        except Exception:  # noqa: BLE001 - an older boto3 lacks one
            pass
    spare_session(boto3, warm)


def spare_session(boto3, warm):
    """boto3's default session and a client of each served service, built
    here but not yet anyone's, under the environment every instance will
    have but for its credentials (lambkin gives the server its region,
    endpoint and execution environment). A forked instance's first
    boto3.client() or boto3.resource() takes the session instead of
    building one, and its first boto3.client(NAME) with no other argument
    takes that service's client, signing with the instance's own
    credentials: the same objects it would have built, at a fraction of
    the cost, and of the pages it would copy. With a variable botocore
    reads set to another value, the instance builds its own, as before.
    Without an endpoint they would be AWS's: they are only made, through
    warm, for what they import and load, and none is kept."""
    spare = boto3.Session()
    env = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    os.environ.update(AWS_ACCESS_KEY_ID="AKIDSPARE",
                      AWS_SECRET_ACCESS_KEY="spare")
    clients = {}
    for name in SERVICES:
        try:
            if os.environ.get("AWS_ENDPOINT_URL"):
                clients[name] = spare.client(name)
            else:
                warm.client(name, endpoint_url="http://127.0.0.1:9")
        except Exception:  # noqa: BLE001 - an older boto3 lacks one
            pass
    del os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    spare._session._credentials = None
    get = boto3._get_default_session
    build = boto3.Session.client

    def same_env():
        now = {k: v for k, v in os.environ.items() if k.startswith("AWS_")
               and k not in PER_INSTANCE and not k.startswith("AWS_LAMBDA_")}
        return now == env

    def client(self, *args, **kwargs):
        c = clients.pop(args[0], None) \
            if len(args) == 1 and not kwargs and same_env() else None
        if c is None:
            return build(self, *args, **kwargs)
        c._request_signer._credentials = self._session.get_credentials()
        return c

    def adopt():
        boto3._get_default_session = get  # once: as if never replaced
        if boto3.DEFAULT_SESSION is None and same_env():
            spare._session._config = None  # the files are read again
            spare._session._profile_map = None
            if clients:
                spare.client = client.__get__(spare)
            boto3.DEFAULT_SESSION = spare
        return get()

    boto3._get_default_session = adopt


def parse(data):
    """(cwd, sandbox args, env) of a request."""
    parts = data.split(b"\0")
    cwd = parts[0].decode()
    end = parts.index(b"", 1)
    sandbox = parts[1:end]
    env = {}
    for kv in parts[end + 1:]:
        k, eq, v = kv.partition(b"=")
        if eq:
            env[os.fsdecode(k)] = os.fsdecode(v)
    return cwd, sandbox, env


def python_path(base, env):
    """sys.path as an interpreter started with env's PYTHONPATH has it
    (site.py keeps the first of two equal folders), and the folders
    PYTHONPATH added."""
    path, extra = base[:1], []
    for p in env.get("PYTHONPATH", "").split(os.pathsep):
        p = os.path.abspath(p) if p else ""
        if p and p not in path:
            path.append(p)
            extra.append(p)
    path += [p for p in base[1:] if p not in path]
    return path, extra


def unshadow(extra):
    """Forgets the preloaded packages when one of the function's own
    folders has a copy of any of them."""
    import importlib.machinery
    finder = importlib.machinery.PathFinder
    if not any(finder.find_spec(n, extra) for n in PRELOADED if extra):
        return
    for name in list(sys.modules):
        if name.split(".")[0] in PRELOADED:
            del sys.modules[name]


class Server:
    def __init__(self, fd):
        self.ctl = socket.socket(fileno=fd)
        self.events = socket.socket(fileno=fd + 1)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.ctl, selectors.EVENT_READ)
        self.children = {}  # pidfd -> pid
        self.base_path = list(sys.path)
        self.sandbox_lib = None
        lib = os.environ.get("LAMBKIN_ZYGOTE_SANDBOX")
        if lib:
            self.sandbox_lib = ctypes.CDLL(lib)

    def serve(self, bootstrap):
        while True:
            for key, _ in self.sel.select():
                if key.fileobj is self.ctl:
                    if self.request(bootstrap):
                        return  # in the child: run the function
                else:
                    self.reap(key.fd)

    def request(self, bootstrap):
        fds = array.array("i")
        try:
            data, anc, _, _ = self.ctl.recvmsg(
                MAX_REQUEST, socket.CMSG_SPACE(8 * fds.itemsize))
        except InterruptedError:
            return False
        if not data:  # lambkin has gone: so do we
            os._exit(0)
        for level, kind, blob in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(blob[:len(blob) - len(blob) % fds.itemsize])
        try:
            if len(fds) < 2:
                raise ValueError("no stdout and stderr")
            cwd, sandbox, env = parse(data)
            pid = os.fork()
        except (OSError, ValueError, UnicodeError) as exc:
            self.ctl.send(b"error %s" % str(exc).encode())
            pid = -1
        if pid == 0:
            self.become(bootstrap, fds, cwd, sandbox, env)
            return True
        for fd in fds:
            os.close(fd)
        if pid > 0:
            pidfd = os.pidfd_open(pid)
            self.children[pidfd] = pid
            self.sel.register(pidfd, selectors.EVENT_READ)
            self.ctl.send(b"ok %d" % pid)
        return False

    def reap(self, pidfd):
        pid = self.children.pop(pidfd)
        self.sel.unregister(pidfd)
        os.close(pidfd)
        _, status = os.waitpid(pid, 0)
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 0
        self.events.send(b"%d %d %d" % (pid, code, sig))

    def become(self, bootstrap, fds, cwd, sandbox, env):
        """The new instance: of the server's fds, none is left open."""
        for pidfd in self.children:
            os.close(pidfd)
        self.sel.close()
        # Closed, not left to the socket objects: a function holding them
        # could forge the server's answers and exit reports.
        os.close(self.ctl.detach())
        os.close(self.events.detach())
        for i, fd in enumerate(fds[:3]):
            os.dup2(fd, i + 1)
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        # Only what was the server's: a library's own fd (OpenSSL's
        # /dev/urandom) must stay, as it does across a fork anywhere.
        for fd in list(fds) + [null]:
            if fd > 3 or (fd == 3 and len(fds) < 3):
                os.close(fd)
        os.setsid()
        os.chdir(cwd)
        if sandbox and self.enter(sandbox) != 0:
            os._exit(125)
        os.environ.clear()
        os.environ.update(env)
        show_environ(env)
        time.tzset()
        sys.path[:], extra = python_path(self.base_path, env)
        unshadow(extra)
        gc.enable()

    def enter(self, args):
        """lambkin-sandbox's file system (runtimes/sandbox/sandbox.c), set
        up in this process instead of before an exec."""
        argv = (ctypes.c_char_p * (len(args) + 2))()
        argv[0] = b"lambkin-sandbox"
        for i, a in enumerate(args):
            argv[i + 1] = a
        argv[len(args) + 1] = None
        return self.sandbox_lib.lambkin_sandbox_enter(len(args) + 1, argv)


def show_environ(env):
    """What /proc/PID/environ shows (ps e, a debugger, anything that reads
    another process's environment) is the block the kernel wrote at exec:
    the server's. lambkin pads that block (LAMBKIN_ZYGOTE_PAD), and the
    instance's environment is written over it, NULs after; an environment
    too large for it leaves the server's there. Nothing points into the
    block any more: os.environ.clear() took every variable out of libc's
    environ."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[47]), int(fields[48])  # env_start, env_end
    except (OSError, IndexError, ValueError):
        return
    blob = b"".join(os.fsencode(k) + b"=" + os.fsencode(v) + b"\0"
                    for k, v in env.items())
    if start <= 0 or len(blob) > end - start:
        return
    ctypes.memmove(start, blob + bytes(end - start - len(blob)), end - start)


def serve(bootstrap):
    """Preloads, then serves requests; returns only in a forked instance,
    which goes on to bootstrap.main()."""
    if not hasattr(os, "pidfd_open"):  # python 3.9 and Linux 5.3 on
        sys.exit("lambkin: this python cannot be a fork server (no "
                 "os.pidfd_open): python functions start by exec")
    # No collection here: one would leave holes in the shared pages that
    # the instances' first objects fill, copying those pages.
    gc.disable()
    server = Server(int(os.environ.pop("LAMBKIN_ZYGOTE_FD")))
    os.environ.pop("LAMBKIN_ZYGOTE_SANDBOX", None)
    preload(bootstrap)
    gc.freeze()  # collections in an instance leave the shared pages alone
    server.ctl.send(b"ready")
    server.serve(bootstrap)
    del server
    bootstrap.main()
