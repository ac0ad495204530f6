// Sample SQS worker (event source mapping with ReportBatchItemFailures):
// a body containing "poison" fails the whole batch; "bad" fails only its
// own message; everything else succeeds and is deleted by lambkin.
exports.handler = async (event) => {
  const batchItemFailures = [];
  for (const r of event.Records) {
    if (r.body.includes('poison')) throw new Error(`poison message ${r.messageId}`);
    if (r.body.includes('bad')) batchItemFailures.push({ itemIdentifier: r.messageId });
    else console.log(`processed ${r.messageId}: ${r.body}`);
  }
  return { batchItemFailures };
};
