const sdk = require('@aws-sdk/client-s3');
exports.handler = async () => ({ which: sdk.which });
