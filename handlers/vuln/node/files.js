// PLANTED BUG (path-traversal, API Gateway HTTP API): `handler` serves
// /files/{name} by joining the name onto its folder, so `../../etc/passwd`
// reads any file the function can. The clean twin, `handlerSafe`, resolves
// the path and refuses one that leaves the folder.
'use strict';
const fs = require('fs');
const path = require('path');

const ROOT = '/tmp/files';

function read(file) {
  try {
    return { statusCode: 200, body: fs.readFileSync(file, 'utf8') };
  } catch (e) {
    return { statusCode: 404, body: 'not found' };
  }
}

exports.handler = async (event) => {
  const name = (event.pathParameters || {}).name || 'index.txt';
  return read(path.join(ROOT, name));
};

exports.handlerSafe = async (event) => {
  const name = (event.pathParameters || {}).name || 'index.txt';
  const file = path.resolve(ROOT, name);
  if (!file.startsWith(ROOT + path.sep)) return { statusCode: 400, body: 'bad name' };
  return read(file);
};
