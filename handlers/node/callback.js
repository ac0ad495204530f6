// Sample Node.js function in the callback style.
exports.handler = (event, context, callback) => {
  setTimeout(() => callback(null, { style: 'callback', got: event }), 1);
};
