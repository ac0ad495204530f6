// lambkin's Node.js runtime: a Lambda Runtime API client.
// Loads _HANDLER ("file.export") from LAMBDA_TASK_ROOT as CommonJS or ES
// module (.mjs, or "type": "module"), supports async and callback
// handlers, and talks to the Runtime API over one pipelined socket.
'use strict';

const net = require('net');
const path = require('path');
const fs = require('fs');
const url = require('url');
const { Writable } = require('stream');

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const BASE = '/2018-06-01/runtime';
const MAX_HEAD = 64 * 1024;

// A minimal HTTP/1.1 client on one keep-alive socket. Requests are
// pipelined: request() queues one (a string body), flush() writes all
// that are queued as one string, so the response POST and the next long
// poll leave in one write. That halves the round trips per invoke
// compared with the http module. The Runtime API always answers with
// Content-Length.
class Rapi {
  constructor() {
    this.waiting = [];
    this.out = '';
    this.buf = Buffer.alloc(0);
    this.sock = net.connect(Number(port), host);
    this.sock.setNoDelay(true);
    this.sock.on('data', (d) => this.onData(d));
    const fail = (e) => {
      for (const w of this.waiting.splice(0)) w.reject(e || new Error('closed'));
    };
    this.sock.on('error', fail);
    this.sock.on('close', () => fail());
  }

  // body: a string, or a Buffer (a streamed response, any bytes), which
  // goes out at once after what is queued.
  request(method, p, body, headers) {
    const b = body === undefined ? '' : body;
    let head = `${method} ${BASE}${p} HTTP/1.1\r\nHost: ${host}\r\n` +
               `Content-Length: ${Buffer.byteLength(b)}\r\n`;
    if (headers) for (const k of Object.keys(headers)) head += `${k}: ${headers[k]}\r\n`;
    if (Buffer.isBuffer(b)) {
      this.sock.write(this.out + head + '\r\n');
      this.sock.write(b);
      this.out = '';
    } else {
      this.out += head + '\r\n' + b;
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  flush() {
    this.sock.write(this.out); // utf8, as Content-Length counted it
    this.out = '';
  }

  onData(d) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.buf.length > MAX_HEAD) this.sock.destroy(new Error('head too large'));
        return;
      }
      // One pass over the head, no split arrays: this runs for every
      // invocation, and the function's process shares the machine.
      const head = this.buf.toString('latin1', 0, end);
      const headers = {};
      const status = parseInt(head.slice(head.indexOf(' ') + 1), 10);
      let i = head.indexOf('\r\n');
      while (i >= 0) {
        const next = head.indexOf('\r\n', i + 2);
        const stop = next < 0 ? head.length : next;
        const c = head.indexOf(':', i + 2);
        if (c > i + 2 && c < stop) {
          headers[head.slice(i + 2, c).trim().toLowerCase()] = head.slice(c + 1, stop).trim();
        }
        i = next;
      }
      const len = Number(headers['content-length'] || 0);
      if (this.buf.length < end + 4 + len) return;
      const body = this.buf.subarray(end + 4, end + 4 + len);
      this.buf = this.buf.subarray(end + 4 + len);
      const w = this.waiting.shift();
      if (w) w.resolve({ status, headers, body });
    }
  }
}

// aws-sdk v2 does not read AWS_ENDPOINT_URL (v3 does): point its global
// config at lambkin when it loads, whoever provides it (lambkin's copy for
// nodejs16.x and older, or one the function bundles). An endpoint given to
// a client's constructor still wins.
function endpointForSdkV2() {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (!endpoint) return;
  const Module = require('module');
  const load = Module._load;
  const done = new WeakSet();
  Module._load = function (request, parent, isMain) {
    const m = load.call(this, request, parent, isMain);
    if (typeof request === 'string' && request.startsWith('aws-sdk')) {
      const core = request === 'aws-sdk' ? m : load.call(this, 'aws-sdk/lib/core', parent, false);
      if (core && core.config && !done.has(core.config)) {
        done.add(core.config);
        core.config.update({ endpoint, s3ForcePathStyle: true });
      }
    }
    return m;
  };
}

// ES modules do not read NODE_PATH: a bare import the function's own
// node_modules cannot satisfy is resolved again from each NODE_PATH
// folder in turn (the dependencies lambkin installed, the layers', the
// SDK the runtime provides), as CommonJS modules find it.
function sdkForEsm() {
  const Module = require('module');
  const dirs = (process.env.NODE_PATH || '').split(':').filter(Boolean);
  if (!Module.register || dirs.length === 0) return;
  Module.register('./sdk-hooks.mjs', url.pathToFileURL(__filename),
                  { data: { dirs } });
}

// Lambda's Node runtime gives every function a global awslambda for
// response streaming. A streamed response is gathered here and posted
// whole, as Lambda answers a plain Invoke of a streaming function.
const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const PRELUDE_TYPE = 'application/vnd.awslambda.http-integration-response';

class HttpResponseStream {
  // The HTTP status and headers a function URL reads first: JSON, then
  // eight NUL bytes, before the body (Lambda's wire format).
  static from(stream, prelude) {
    stream.setContentType(PRELUDE_TYPE);
    stream.prelude = Buffer.concat([Buffer.from(JSON.stringify(prelude)), Buffer.alloc(8)]);
    return stream;
  }
}

function defineAwsLambda() {
  const off = process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (off === '1' || off === 'true') return;
  globalThis.awslambda = {
    streamifyResponse(handler) {
      handler[STREAMING] = 'response';
      return handler;
    },
    HttpResponseStream,
  };
}

class ResponseStream extends Writable {
  constructor() {
    super();
    this.chunks = [];
    this.contentType = 'application/octet-stream';
    this.prelude = null;
  }

  setContentType(type) {
    this.contentType = type;
  }

  _write(chunk, encoding, done) {
    if (this.prelude) {
      this.chunks.push(this.prelude);
      this.prelude = null;
    }
    this.chunks.push(chunk);
    done();
  }

  body() {
    if (this.prelude) this.chunks.push(this.prelude);
    return Buffer.concat(this.chunks);
  }
}

// As Lambda's runtime does: the handler must be async and must end the
// stream; what it returns is ignored.
async function runStreaming(fn, event, ctx) {
  const stream = new ResponseStream();
  const finished = new Promise((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  const r = fn(event, stream, ctx);
  if (!r || typeof r.then !== 'function') {
    throw new Error('Streaming does not support non-async handlers.');
  }
  await r;
  if (!stream.writableEnded) throw new Error('Response stream is not finished.');
  await finished;
  return stream.body();
}

defineAwsLambda();
endpointForSdkV2();
const rapi = new Rapi();
const call = (method, p, body, headers) => {
  const r = rapi.request(method, p, body, headers);
  rapi.flush();
  return r;
};

function errorBody(err, type) {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    errorType: type || e.name || 'Error',
    errorMessage: e.message,
    trace: (e.stack || '').split('\n'),
  };
}

// An ES module: .mjs, or .js under a package.json of "type": "module"
// (the nearest one, up to the task root). Such a file is imported, never
// required: a node that can require() an ES module would otherwise load
// it without the resolve hook, and its imports would miss NODE_PATH.
function isEsm(file, root) {
  if (file.endsWith('.mjs')) return true;
  if (file.endsWith('.cjs')) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    try {
      const type = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).type;
      return type === 'module';
    } catch (e) {
      // no package.json here (or not JSON): look further up
    }
    if (dir === root || dir === path.dirname(dir)) return false;
  }
}

async function loadHandler() {
  const spec = process.env._HANDLER;
  const dot = spec.lastIndexOf('.');
  const modPath = spec.slice(0, dot);
  const fnName = spec.slice(dot + 1);
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const base = path.resolve(root, modPath);
  let mod;
  const candidates = ['.js', '.mjs', '.cjs'].map((ext) => base + ext);
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) {
    const err = new Error(`Cannot find module '${modPath}'`);
    throw Object.assign(err, { lambdaType: 'Runtime.ImportModuleError' });
  }
  try {
    if (isEsm(file, root)) {
      sdkForEsm();
      mod = await import(url.pathToFileURL(file).href);
    } else {
      try {
        mod = require(file);
      } catch (e) {
        if (e.code !== 'ERR_REQUIRE_ESM') throw e;
        sdkForEsm();
        mod = await import(url.pathToFileURL(file).href);
      }
    }
  } catch (e) {
    if (e && (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND') &&
        fs.existsSync(path.join(root, 'package.json')) &&
        !fs.existsSync(path.join(root, 'node_modules'))) {
      e.message += " (the function's package.json lists what npm install or " +
                   'sam build installs: lambkin installs it at start unless ' +
                   '--no-install, and says so when it cannot; it runs ' +
                   '.aws-sam/build/ once that exists)';
    }
    throw Object.assign(e, { lambdaType: 'Runtime.ImportModuleError' });
  }
  if (SINK) { // what the task's code compares, from here on
    harvestLiterals(file);
    hookStringTests();
  }
  const fn = mod[fnName] || (mod.default && mod.default[fnName]);
  if (typeof fn !== 'function') {
    const err = new Error(`${modPath}.${fnName} is undefined or not exported`);
    throw Object.assign(err, { lambdaType: 'Runtime.HandlerNotFound' });
  }
  return fn;
}

// Fixed for the life of the instance: read once (each process.env read
// is a getenv through an interceptor).
const ENV = {
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
  logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
};

function context(headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms'] || 0);
  return {
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    functionName: ENV.functionName,
    functionVersion: ENV.functionVersion,
    memoryLimitInMB: ENV.memoryLimitInMB,
    logGroupName: ENV.logGroupName,
    logStreamName: ENV.logStreamName,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    clientContext: jsonHeader(headers['lambda-runtime-client-context']),
    identity: jsonHeader(headers['lambda-runtime-cognito-identity']),
  };
}

// The mobile SDK's client context and Cognito identity, as Lambda's Node
// runtime hands them over: parsed, or undefined when absent (as they are
// when the caller gave none).
function jsonHeader(v) {
  if (!v || v === '{}') return undefined;
  try {
    return JSON.parse(v);
  } catch (e) {
    return undefined;
  }
}

// lambkin fuzz and replay: the canaries of the oracles that need the
// runtime's help. A global function only code made of event data calls
// (the fuzzer's payloads name it) reports that an evaluator (eval,
// Function, vm) or a reviving deserializer ran what the event said; a
// property of Object.prototype the payloads name, seen after an
// invocation, reports prototype pollution. Each is one line of the sink
// report, escaped as the sink library escapes them.
const SINK = process.env.LAMBKIN_SINK_LOG;
const CANARY_PROTO = 'lambkin_canary_proto';

function sinkLine(...fields) {
  const esc = (v) => String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t')
    .replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  fs.appendFileSync(SINK, fields.map(esc).join('\t') + '\n');
}

// The first frame of the stack in the task's own code: where it handed
// the event's text over.
function taskFrame(stack) {
  const root = (process.env.LAMBDA_TASK_ROOT || '/').replace(/\/$/, '') + '/';
  const at = stack.split('\n').find((l) => l.includes(root) && !l.includes(__filename));
  return at ? at.trim().split(root).join('') : 'called from code the task did not write';
}

function installCanaries() {
  const canaries = { lambkin_canary_code: 'evaluator', lambkin_canary_deser: 'deserializer' };
  const defs = {};
  for (const [name, sink] of Object.entries(canaries)) {
    defs[name] = () => {
      inBootstrap = true;
      try {
        sinkLine('canary', name, sink, taskFrame(new Error().stack));
      } finally {
        inBootstrap = false;
      }
    };
  }
  Object.assign(globalThis, defs);
  // A new vm context has none of the globals: give it the canaries.
  const vm = require('vm');
  const withDefs = (ctx) => (ctx && typeof ctx === 'object' ? Object.assign(ctx, defs) : ctx);
  const createContext = vm.createContext;
  vm.createContext = (ctx, ...rest) => createContext(withDefs(ctx === undefined ? {} : ctx), ...rest);
  const runInNewContext = vm.runInNewContext;
  vm.runInNewContext = (code, ctx, ...rest) =>
    runInNewContext(code, withDefs(ctx === undefined ? {} : ctx), ...rest);
}

function checkPrototype() {
  if (!Object.prototype.hasOwnProperty.call(Object.prototype, CANARY_PROTO)) return;
  delete Object.prototype[CANARY_PROTO]; // the next invocation starts clean
  sinkLine('canary', CANARY_PROTO, 'Object.prototype',
           `Object.prototype.${CANARY_PROTO} was set during the invocation`);
}

// lambkin fuzz's dictionary: the string literals of the task's own code
// (its handler's file first, then every CommonJS module it loaded from
// the task root), and the operands of the string tests it runs
// (startsWith, endsWith, includes, indexOf, and a RegExp's literal
// prefix). Each word, 2 to 64 printable characters, goes to the sink
// report once, as "dict\tWORD"; at most 512.
const words = new Set();
let fresh = [];
let inBootstrap = false; // its own string tests are not the task's

function noteWord(w) {
  if (inBootstrap || typeof w !== 'string' || w.length < 2 || w.length > 64 ||
      words.size >= 512 || words.has(w)) return;
  for (let i = 0; i < w.length; i++) { // no regex: RegExp.prototype.test is hooked
    const c = w.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x5c) return;
  }
  words.add(w);
  fresh.push(w);
}

function flushWords() {
  const out = fresh;
  fresh = [];
  for (const w of out) sinkLine('dict', w);
}

function harvestLiterals(first) {
  const root = (process.env.LAMBDA_TASK_ROOT || '/').replace(/\/$/, '') + '/';
  const files = [first, ...Object.keys(require.cache)].filter((f) => f.startsWith(root));
  const literal = /'([^'\\\n]{2,64})'|"([^"\\\n]{2,64})"|`([^`\\$\n]{2,64})`/g;
  for (const f of new Set(files)) {
    let src;
    try {
      src = fs.readFileSync(f, 'utf8');
    } catch (e) {
      continue;
    }
    for (const m of src.matchAll(literal)) noteWord(m[1] || m[2] || m[3]);
  }
  flushWords();
}

function hookStringTests() {
  for (const name of ['startsWith', 'endsWith', 'includes', 'indexOf']) {
    const orig = String.prototype[name];
    Object.defineProperty(String.prototype, name, {
      value: function (search, ...rest) {
        noteWord(search);
        return orig.call(this, search, ...rest);
      },
      writable: true, configurable: true,
    });
  }
  const test = RegExp.prototype.test;
  RegExp.prototype.test = function (s) {
    const m = /^\^([\w :=\-/.#@]{2,64})/.exec(this.source);
    if (m) noteWord(m[1]);
    return test.call(this, s);
  };
}

// lambkin fuzz's feedback: V8's block coverage of the task's own files
// (not its node_modules), taken after each invocation through the
// inspector (a same-thread session answers at once). A function's
// executed segments, its range less the blocks counted 0, are the units:
// after an invocation that ran one no earlier one did, "cov\tN" (N
// segments so far) goes to the sink report, as python's lines do.
let coverage = null;
const segments = new Set();

function startCoverage() {
  coverage = new (require('inspector').Session)();
  coverage.connect();
  coverage.post('Profiler.enable');
  coverage.post('Profiler.startPreciseCoverage', { callCount: false, detailed: true });
}

function ownScript(u) {
  const root = (process.env.LAMBDA_TASK_ROOT || '/').replace(/\/$/, '') + '/';
  const file = u.startsWith('file://') ? url.fileURLToPath(u) : u;
  return file.startsWith(root) && !file.includes('/node_modules/');
}

// FNV-1a, 32 bits: a segment's unit for the libFuzzer-compatible target.
function fnv(str) {
  let h = 0x811c9dc5;
  for (let i = 0; i < str.length; i++) h = Math.imul(h ^ str.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function takeCoverage() {
  let taken = null;
  coverage.post('Profiler.takePreciseCoverage', (err, r) => { taken = r; });
  const before = segments.size;
  const now = [];
  for (const script of (taken && taken.result) || []) {
    if (!ownScript(script.url)) continue;
    for (const fn of script.functions) {
      const [top, ...inner] = fn.ranges;
      if (!top || top.count === 0) continue;
      let at = top.startOffset;
      const skipped = inner.filter((r) => r.count === 0)
        .sort((a, b) => a.startOffset - b.startOffset);
      for (const r of [...skipped, { startOffset: top.endOffset, endOffset: top.endOffset }]) {
        const seg = `${script.url}:${at}-${r.startOffset}`;
        if (r.startOffset > at) segments.add(seg), now.push(seg);
        at = Math.max(at, r.endOffset);
      }
    }
  }
  if (segments.size > before) sinkLine('cov', segments.size);
  if (process.env.LAMBKIN_SINK_UNITS) {
    for (let i = 0; i < now.length; i += 400) {
      sinkLine('covu', now.slice(i, i + 400).map((u) => fnv(u).toString(16)).join(','));
    }
  }
}

// What lambkin fuzz learns after each invocation, before its answer
// leaves (the emulator reads the sink report when the answer arrives).
function afterInvocation() {
  inBootstrap = true;
  try {
    checkPrototype();
    flushWords();
    takeCoverage();
  } finally {
    inBootstrap = false;
  }
}

if (SINK) {
  installCanaries();
  startCoverage();
}

function run(fn, event, ctx) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (err, result) => {
      if (settled) return;
      settled = true;
      if (err) reject(err); else resolve(result);
    };
    try {
      const r = fn(event, ctx, callback);
      if (r && typeof r.then === 'function') {
        r.then((v) => callback(null, v), (e) => callback(e));
      } else if (fn.length < 3) {
        callback(null, r);
      }
    } catch (e) {
      callback(e);
    }
  });
}

async function main() {
  let fn;
  try {
    fn = await loadHandler();
  } catch (e) {
    const body = errorBody(e, e.lambdaType);
    console.error(`[ERROR] ${body.errorType}: ${body.errorMessage}`.replace(/\n/g, '\r'));
    await call('POST', '/init/error', JSON.stringify(body),
               { 'Lambda-Runtime-Function-Error-Type': body.errorType });
    process.exit(1);
  }
  let pending = call('GET', '/invocation/next');
  for (;;) {
    const next = await pending;
    if (next.status !== 200) {
      pending = call('GET', '/invocation/next');
      continue;
    }
    const id = next.headers['lambda-runtime-aws-request-id'];
    process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'] || '';
    let done;
    try {
      const event = next.body.length ? JSON.parse(next.body) : {};
      let out;
      if (fn[STREAMING] === 'response') {
        out = await runStreaming(fn, event, context(next.headers));
      } else {
        const result = await run(fn, event, context(next.headers));
        out = JSON.stringify(result === undefined ? null : result);
      }
      if (SINK) afterInvocation();
      done = rapi.request('POST', `/invocation/${id}/response`, out);
    } catch (e) {
      const body = errorBody(e);
      if (SINK) afterInvocation();
      console.error(`[ERROR] ${body.errorType}: ${body.errorMessage}`.replace(/\n/g, '\r'));
      done = rapi.request('POST', `/invocation/${id}/error`, JSON.stringify(body),
                          { 'Lambda-Runtime-Function-Error-Type': body.errorType });
    }
    pending = rapi.request('GET', '/invocation/next');
    rapi.flush();
    await done;
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
