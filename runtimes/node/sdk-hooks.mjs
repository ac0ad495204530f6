// Module resolve hook for ES module handlers (registered by bootstrap.js):
// a bare specifier the function's own node_modules cannot satisfy is
// resolved again as if imported from each NODE_PATH folder in turn, as
// CommonJS modules find it through NODE_PATH.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

let froms = [];

export async function initialize(data) {
  froms = data.dirs.map((d) => pathToFileURL(path.join(d, 'lambkin-sdk.mjs')).href);
}

function bare(specifier) {
  return !specifier.startsWith('.') && !specifier.startsWith('/') &&
         !specifier.includes(':');
}

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    if (e.code !== 'ERR_MODULE_NOT_FOUND' || !bare(specifier)) throw e;
    for (const parentURL of froms) {
      try {
        return await next(specifier, { ...context, parentURL });
      } catch (again) {
        if (again.code !== 'ERR_MODULE_NOT_FOUND') throw again;
      }
    }
    throw e;
  }
}
