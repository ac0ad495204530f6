// PLANTED BUG (code-injection, SQS): `handler` prices a print job by
// evaluating the message body as a formula over `pages` in a vm context,
// which people take for a sandbox; it is not one, and a body that is code
// runs as the function. The clean twin, `handlerSafe`, accepts only
// numbers, `pages`, + - * / and parentheses, and evaluates them itself.
'use strict';
const vm = require('vm');

exports.handler = async (event) => {
  const prices = [];
  for (const r of event.Records || []) {
    try {
      prices.push(vm.runInNewContext(r.body, { pages: 4 }, { timeout: 100 }));
    } catch (e) {
      prices.push(null);
    }
  }
  return { prices };
};

// A recursive descent over the formula's tokens: no evaluator involved.
function price(formula, pages) {
  const tokens = formula.match(/\d+(\.\d+)?|pages|[-+*/()]|\S/g) || [];
  let i = 0;
  const atom = () => {
    const t = tokens[i++];
    if (t === '(') {
      const v = sum();
      if (tokens[i++] !== ')') throw new Error('missing )');
      return v;
    }
    if (t === 'pages') return pages;
    if (t === '-') return -atom();
    if (/^\d/.test(t || '')) return Number(t);
    throw new Error(`unexpected ${t}`);
  };
  const product = () => {
    let v = atom();
    while (tokens[i] === '*' || tokens[i] === '/') v = tokens[i++] === '*' ? v * atom() : v / atom();
    return v;
  };
  const sum = () => {
    let v = product();
    while (tokens[i] === '+' || tokens[i] === '-') v = tokens[i++] === '+' ? v + product() : v - product();
    return v;
  };
  const v = sum();
  if (i !== tokens.length) throw new Error('trailing input');
  return v;
}

exports.handlerSafe = async (event) => {
  const prices = [];
  for (const r of event.Records || []) {
    try {
      prices.push(price(r.body, 4));
    } catch (e) {
      prices.push(null);
    }
  }
  return { prices };
};
