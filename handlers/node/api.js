// Sample HTTP API function (API Gateway payload 2.0), one route per
// response shape API Gateway understands.
exports.handler = async (event) => {
  const path = event.rawPath || event.path;
  if (path.startsWith('/hello/')) {
    return {
      statusCode: 201,
      headers: { 'content-type': 'application/json', 'x-name': event.pathParameters.name },
      cookies: ['session=abc; Path=/', 'theme=dark'],
      body: JSON.stringify({ event }),
    };
  }
  if (path === '/plain') return 'just a string';
  if (path === '/object') return { hello: 'world' };
  if (path === '/binary') {
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/octet-stream' },
      isBase64Encoded: true,
      body: event.isBase64Encoded ? event.body : Buffer.from(event.body || '').toString('base64'),
    };
  }
  if (path === '/malformed') return { statusCode: 'not a number', body: {} };
  if (path === '/throws') throw new Error('boom');
  if (path === '/v1') return { statusCode: 200, body: JSON.stringify({ version: event.version || '1.0', resource: event.resource }) };
  return { statusCode: 404, body: 'no such route in the handler' };
};
