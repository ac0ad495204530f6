// lambkin's Node.js runtime: a Lambda Runtime API client.
// Loads _HANDLER ("file.export") from LAMBDA_TASK_ROOT as CommonJS or ES
// module (.mjs, or "type": "module"), supports async and callback
// handlers, and serves /invocation/next over one keep-alive agent.
'use strict';

const http = require('http');
const path = require('path');
const fs = require('fs');
const url = require('url');

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const BASE = '/2018-06-01/runtime';

function call(method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port, method, path: BASE + p, agent, headers: headers || {} },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode, headers: res.headers,
                    body: Buffer.concat(chunks) }));
      });
    req.on('error', reject);
    if (body !== undefined) req.end(body); else req.end();
  });
}

function errorBody(err, type) {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    errorType: type || e.name || 'Error',
    errorMessage: e.message,
    trace: (e.stack || '').split('\n'),
  };
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
    if (file.endsWith('.mjs')) {
      mod = await import(url.pathToFileURL(file).href);
    } else {
      try {
        mod = require(file);
      } catch (e) {
        if (e.code !== 'ERR_REQUIRE_ESM') throw e;
        mod = await import(url.pathToFileURL(file).href);
      }
    }
  } catch (e) {
    throw Object.assign(e, { lambdaType: 'Runtime.ImportModuleError' });
  }
  const fn = mod[fnName] || (mod.default && mod.default[fnName]);
  if (typeof fn !== 'function') {
    const err = new Error(`${modPath}.${fnName} is undefined or not exported`);
    throw Object.assign(err, { lambdaType: 'Runtime.HandlerNotFound' });
  }
  return fn;
}

function context(headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms'] || 0);
  return {
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
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
    console.error(`[ERROR] ${body.errorType}: ${body.errorMessage}`);
    await call('POST', '/init/error', JSON.stringify(body),
               { 'Lambda-Runtime-Function-Error-Type': body.errorType });
    process.exit(1);
  }
  for (;;) {
    const next = await call('GET', '/invocation/next');
    if (next.status !== 200) continue;
    const id = next.headers['lambda-runtime-aws-request-id'];
    process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'] || '';
    let out;
    try {
      const event = next.body.length ? JSON.parse(next.body) : {};
      const result = await run(fn, event, context(next.headers));
      out = JSON.stringify(result === undefined ? null : result);
    } catch (e) {
      const body = errorBody(e);
      console.error(`[ERROR] ${body.errorType}: ${body.errorMessage}`);
      await call('POST', `/invocation/${id}/error`, JSON.stringify(body),
                 { 'Lambda-Runtime-Function-Error-Type': body.errorType });
      continue;
    }
    await call('POST', `/invocation/${id}/response`, out);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
