// Sample Node.js function (CommonJS, async): returns the event.
exports.handler = async (event, context) => {
  return event;
};
