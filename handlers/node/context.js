// Sample Node.js function that reports what the runtime's context gave it.
exports.handler = async (event, context) => ({
  requestId: context.awsRequestId,
  functionName: context.functionName,
  remainingMs: context.getRemainingTimeInMillis(),
  clientContext: context.clientContext === undefined ? null : context.clientContext,
});
