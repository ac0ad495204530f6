"""lambkin's Python runtime: a Lambda Runtime API client.

Loads _HANDLER ("module.function", with LAMBDA_TASK_ROOT on sys.path) and
serves /invocation/next in a loop over one keep-alive connection, as the
AWS runtime interface client does. Only the standard library is used so
cold starts stay short.
"""
import http.client
import importlib
import json
import os
import sys
import time
import traceback

BASE = "/2018-06-01/runtime"
# What the instance's environment says, read by setup(): a process forked
# from the fork server (zygote.py) gets its environment after the import.
API = None
SINK = None  # set by lambkin fuzz and replay
UNITS = None  # the libFuzzer-compatible target wants each invocation's lines


class Coverage:
    """Line coverage of the task's own code, for lambkin fuzz: after an
    invocation that ran a line no earlier one did, it appends "cov\tN"
    (N lines so far) to the sink report, and the fuzzer keeps that input.
    Only frames of files under LAMBDA_TASK_ROOT are traced line by line;
    other calls cost one check, C code nothing."""

    def __init__(self, root):
        self.root = root.rstrip("/") + "/"
        self.seen = set()
        self.now = set()  # this invocation's lines

    def _line(self, frame, event, arg):
        if event == "line":
            self.now.add((frame.f_code.co_filename, frame.f_lineno))
        return self._line

    def _call(self, frame, event, arg):
        if frame.f_code.co_filename.startswith(self.root):
            return self._line
        return None

    def run(self, fn, *args):
        before = len(self.seen)
        self.now = set()
        sys.settrace(self._call)
        try:
            return fn(*args)
        finally:
            sys.settrace(None)
            self.seen |= self.now
            if len(self.seen) > before:
                sink_line("cov", len(self.seen))
            if UNITS:
                import zlib
                sink_units(zlib.crc32(("%s:%d" % u).encode())
                           for u in self.now)


def sink_line(*fields):
    """One line of the sink report, escaped as the sink library does."""
    def esc(v):
        return (str(v).replace("\\", "\\\\").replace("\t", "\\t")
                .replace("\n", "\\n").replace("\r", "\\r"))
    with open(SINK, "a") as f:
        f.write("\t".join(esc(v) for v in fields) + "\n")


def sink_units(units):
    """An invocation's coverage units (32-bit hashes), as "covu" lines of
    at most 400 hex numbers each."""
    units = ["%x" % u for u in units]
    for i in range(0, len(units), 400):
        sink_line("covu", ",".join(units[i:i + 400]))


def canary(name, sink):
    """A builtin that only code made of event data calls (the fuzzer's
    payloads name it): an evaluator or an unpickler ran what the event
    said. It reports the line of the task's code that handed it over."""
    root = os.environ.get("LAMBDA_TASK_ROOT", "/").rstrip("/") + "/"

    def tripped(*args, **kwargs):
        import linecache
        frame = sys._getframe(1)
        while frame and not frame.f_code.co_filename.startswith(root):
            frame = frame.f_back
        where = "called from code the task did not write"
        if frame:
            f = frame.f_code.co_filename
            where = "%s:%d: %s" % (f[len(root):], frame.f_lineno,
                                   linecache.getline(f, frame.f_lineno)
                                   .strip())
        sink_line("canary", name, sink, where)

    return tripped


def audit(event, args):
    """compile() of a text with the code canary in it (eval and exec of a
    string compile it too): event data reached an evaluator even when the
    code is never run. A module's own source (a .py file) is not."""
    if event != "compile" or not args or str(args[1]).endswith(".py"):
        return
    src = args[0]
    if isinstance(src, str):
        src = src.encode("utf-8", "replace")
    if isinstance(src, bytes) and b"lambkin_canary_code" in src:
        try:  # an audit hook's exception would fail the compile itself
            TRIPPED_CODE()
        except Exception:  # noqa: BLE001
            pass


def add_canaries():
    global TRIPPED_CODE
    import builtins
    builtins.lambkin_canary_code = canary("lambkin_canary_code", "evaluator")
    builtins.lambkin_canary_deser = canary("lambkin_canary_deser",
                                           "deserializer")
    TRIPPED_CODE = builtins.lambkin_canary_code
    sys.addaudithook(audit)


def harvest(root, first):
    """lambkin fuzz's dictionary: the string, bytes and number literals
    of the task's own modules (its handler's first), as "dict" lines, at
    most 256 of 2 to 64 printable bytes. A field compared with one of
    them (a command name, a prefix a parser looks for) is then within
    the mutator's reach."""
    import ast
    files = [first] + [getattr(m, "__file__", None) or ""
                       for m in list(sys.modules.values())]
    done, words = set(), set()
    for f in files:
        if not f.startswith(root) or not f.endswith(".py") or f in done:
            continue
        done.add(f)
        try:
            with open(f, "rb") as src:
                tree = ast.parse(src.read())
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            v = node.value if isinstance(node, ast.Constant) else None
            if isinstance(v, bytes):
                v = v.decode("latin-1")
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                v = repr(v)
            if (isinstance(v, str) and 2 <= len(v.encode()) <= 64 and
                    v.isprintable() and "\\" not in v and v not in words):
                words.add(v)
                sink_line("dict", v)
                if len(words) >= 256:
                    return


class _EndpointHook:
    """Points boto3 at lambkin (AWS_ENDPOINT_URL) when the handler imports
    it: botocore before 1.31 ignores that variable. The hook patches
    botocore.session after it loads, so functions without boto3 pay
    nothing at cold start."""

    def find_spec(self, name, path=None, target=None):
        if name != "botocore.session":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            point_at_endpoint(module)

        spec.loader.exec_module = exec_module
        return spec


def point_at_endpoint(session_module):
    """botocore.session's clients go to AWS_ENDPOINT_URL when it is set
    and the caller named no endpoint (the fork server patches the
    botocore it preloads the same way)."""
    create = session_module.Session.create_client

    def create_client(self, service_name, *args, **kw):
        url = os.environ.get("AWS_ENDPOINT_URL")
        if url and len(args) < 5 and kw.get("endpoint_url") is None:
            kw["endpoint_url"] = url
        return create(self, service_name, *args, **kw)

    session_module.Session.create_client = create_client


def setup():
    """What the instance's environment decides, once it is in place."""
    global API, SINK, UNITS
    API = os.environ["AWS_LAMBDA_RUNTIME_API"]
    SINK = os.environ.get("LAMBKIN_SINK_LOG")
    UNITS = SINK and os.environ.get("LAMBKIN_SINK_UNITS")
    if SINK:
        add_canaries()
    if os.environ.get("AWS_ENDPOINT_URL") and \
            "botocore.session" not in sys.modules:
        import importlib.util
        sys.meta_path.insert(0, _EndpointHook())


class Context:
    """The context object Lambda passes to Python handlers."""

    def __init__(self, headers):
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        self.invoked_function_arn = headers.get(
            "Lambda-Runtime-Invoked-Function-Arn", "")
        self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms", "0"))
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get(
            "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        cc = headers.get("Lambda-Runtime-Client-Context")
        ci = headers.get("Lambda-Runtime-Cognito-Identity")
        self.client_context = client_context(cc)
        self.identity = json.loads(ci) if ci and ci != "{}" else None

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


class ClientContext:
    """context.client_context as Lambda's Python runtime builds it: the
    JSON's client (itself an object), custom and env as attributes."""
    __slots__ = ["custom", "env", "client"]


class Client:
    __slots__ = ["installation_id", "app_title", "app_version_name",
                 "app_version_code", "app_package_name"]


def from_dict(cls, d):
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, d.get(field))
    return obj


def client_context(header):
    if not header or header == "{}":
        return None
    cc = from_dict(ClientContext, json.loads(header))
    if isinstance(cc.client, dict):
        cc.client = from_dict(Client, cc.client)
    return cc


class Api:
    def __init__(self):
        self.conn = http.client.HTTPConnection(API)

    def call(self, method, path, body=None, headers=None):
        self.conn.request(method, BASE + path, body=body,
                          headers=headers or {})
        resp = self.conn.getresponse()
        data = resp.read()
        return resp, data


def error_body(exc, etype=None):
    tb = traceback.format_list(traceback.extract_tb(exc.__traceback__))
    return {
        "errorMessage": str(exc),
        "errorType": etype or type(exc).__name__,
        "stackTrace": [line.rstrip("\n") for line in tb],
    }


def build_hint(root, exc):
    """Lambda's own message, and a hint when the missing module is a
    dependency a build would have installed."""
    if not isinstance(exc, ModuleNotFoundError):
        return ""
    for f in ("requirements.txt", "pyproject.toml", "Pipfile"):
        if os.path.exists(os.path.join(root, f)):
            return (" (the function's %s lists what sam build installs: "
                    "lambkin installs a requirements.txt at start unless "
                    "--no-install, and says so when it cannot; it runs "
                    ".aws-sam/build/ once that exists)" % f)
    return ""


def load_handler(api):
    spec = os.environ["_HANDLER"]
    module_name, _, fn_name = spec.rpartition(".")
    root = os.environ.get("LAMBDA_TASK_ROOT", ".")
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as exc:  # noqa: BLE001 - any import failure is init error
        body = error_body(exc, "Runtime.ImportModuleError")
        body["errorMessage"] = "Unable to import module '%s': %s%s" % (
            module_name, exc, build_hint(root, exc))
        return fail_init(api, body)
    if SINK:
        harvest(root.rstrip("/") + "/", getattr(module, "__file__", "") or "")
    handler = getattr(module, fn_name, None)
    if handler is None:
        return fail_init(api, {
            "errorMessage": "Handler '%s' missing on module '%s'" % (
                fn_name, module_name),
            "errorType": "Runtime.HandlerNotFound",
            "stackTrace": [],
        })
    return handler


def fail_init(api, body):
    print("[ERROR] %s: %s" % (body["errorType"], body["errorMessage"]),
          file=sys.stderr)
    api.call("POST", "/init/error", json.dumps(body).encode(),
             {"Lambda-Runtime-Function-Error-Type": body["errorType"]})
    sys.exit(1)


def main():
    setup()
    api = Api()
    handler = load_handler(api)
    cov = Coverage(os.environ.get("LAMBDA_TASK_ROOT", "/")) if SINK else None
    while True:
        resp, data = api.call("GET", "/invocation/next")
        if resp.status != 200:
            continue
        headers = {k: v for k, v in resp.getheaders()}
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        os.environ["_X_AMZN_TRACE_ID"] = headers.get(
            "Lambda-Runtime-Trace-Id", "")
        ctx = Context(headers)
        try:
            event = json.loads(data) if data else {}
            result = cov.run(handler, event, ctx) if cov else \
                handler(event, ctx)
            out = json.dumps(result).encode()
        except Exception as exc:  # noqa: BLE001 - reported to the caller
            body = error_body(exc)
            # One log record, as Lambda's runtime writes it: a newline in
            # the message would forge a second one.
            print(("[ERROR] %s: %s" % (body["errorType"],
                                       body["errorMessage"])
                   ).replace("\n", "\r"), file=sys.stderr)
            sys.stdout.flush()
            sys.stderr.flush()
            api.call("POST", "/invocation/%s/error" % request_id,
                     json.dumps(body).encode(),
                     {"Lambda-Runtime-Function-Error-Type":
                      body["errorType"]})
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        api.call("POST", "/invocation/%s/response" % request_id, out)


if __name__ == "__main__":
    if os.environ.get("LAMBKIN_ZYGOTE_FD"):
        import zygote
        zygote.serve(sys.modules[__name__])
    else:
        main()
