// Sample Node.js function as an ES module.
export const handler = async (event, context) => {
  return { style: 'esm', requestId: context.awsRequestId, got: event };
};
