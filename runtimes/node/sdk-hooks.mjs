// Module resolve hook for ES module handlers (registered by bootstrap.js):
// a bare specifier the function's own node_modules cannot satisfy is
// resolved again as if imported from the runtime's SDK folder, as
// CommonJS modules find it through NODE_PATH.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

let from = null;

export async function initialize(data) {
  from = pathToFileURL(path.join(data.sdk, 'lambkin-sdk.mjs')).href;
}

function bare(specifier) {
  return !specifier.startsWith('.') && !specifier.startsWith('/') &&
         !specifier.includes(':');
}

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    if (!from || e.code !== 'ERR_MODULE_NOT_FOUND' || !bare(specifier)) throw e;
    return next(specifier, { ...context, parentURL: from });
  }
}
