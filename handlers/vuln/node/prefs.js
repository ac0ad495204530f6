// PLANTED BUG (prototype-pollution, SQS): `handler` applies a message's
// JSON to a customer's default preferences with a recursive merge that
// copies every key, `__proto__` included, so a message holding
// {"__proto__": {...}} sets properties on Object.prototype, seen by every
// object of the process from then on. The clean twin, `handlerSafe`,
// skips the keys that reach a prototype and merges into objects that
// have none.
'use strict';

function merge(target, source) {
  for (const key of Object.keys(source)) {
    const v = source[key];
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      if (!target[key] || typeof target[key] !== 'object') target[key] = {};
      merge(target[key], v);
    } else {
      target[key] = v;
    }
  }
  return target;
}

const UNSAFE = new Set(['__proto__', 'constructor', 'prototype']);

function mergeSafe(target, source) {
  for (const key of Object.keys(source)) {
    if (UNSAFE.has(key)) continue;
    const v = source[key];
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      if (!Object.hasOwn(target, key) || typeof target[key] !== 'object') {
        target[key] = Object.create(null);
      }
      mergeSafe(target[key], v);
    } else {
      target[key] = v;
    }
  }
  return target;
}

const defaults = () => ({ currency: 'EUR', notify: { email: true } });

function apply(event, mergeFn) {
  const out = [];
  for (const r of event.Records || []) {
    let update;
    try {
      update = JSON.parse(r.body);
    } catch (e) {
      out.push({ error: 'not JSON' });
      continue;
    }
    if (update && typeof update === 'object') out.push(mergeFn(defaults(), update));
  }
  return out;
}

exports.handler = async (event) => apply(event, merge);
exports.handlerSafe = async (event) => apply(event, mergeSafe);
