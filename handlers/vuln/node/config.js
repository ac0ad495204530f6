// PLANTED BUG (unhandled-error that leaks secrets, SQS): on a message it
// cannot parse, `handler` throws an error that dumps its whole environment,
// credentials included, into the error every caller and log reader sees.
// The clean twin, `handlerSafe`, reports the message as a batch item
// failure and names only its id.
'use strict';

exports.handler = async (event) => {
  for (const r of event.Records || []) {
    try {
      JSON.parse(r.body);
    } catch (e) {
      throw new Error(`cannot parse ${r.messageId} with config ${JSON.stringify(process.env)}`);
    }
  }
  return { ok: true };
};

exports.handlerSafe = async (event) => {
  const batchItemFailures = [];
  for (const r of event.Records || []) {
    try {
      JSON.parse(r.body);
    } catch (e) {
      console.log(`cannot parse message ${r.messageId}`);
      batchItemFailures.push({ itemIdentifier: r.messageId });
    }
  }
  return { batchItemFailures };
};
