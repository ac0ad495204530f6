const { greet } = require('greet');
const { v } = require('versioned');
exports.handler = async () => ({ V_GREET: greet(), V_V: v });
