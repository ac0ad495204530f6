// PLANTED BUG (timeout, SQS): `handler` renders a report two pages at a
// time and stops when the page number equals the count, so an odd "pages"
// value never stops: the function spins until Lambda kills it, and the
// message is retried until it reaches the DLQ. The clean twin,
// `handlerSafe`, stops at the count and caps it.
'use strict';

function pages(event) {
  return (event.Records || []).map((r) => {
    try {
      return parseInt(JSON.parse(r.body).pages, 10) || 0;
    } catch (e) {
      return 0;
    }
  });
}

exports.handler = async (event) => {
  let rendered = 0;
  for (const n of pages(event)) {
    for (let p = 0; p !== n; p += 2) rendered++;
  }
  return { rendered };
};

exports.handlerSafe = async (event) => {
  let rendered = 0;
  for (const n of pages(event)) {
    for (let p = 0; p < Math.min(n, 1000); p += 2) rendered++;
  }
  return { rendered };
};
