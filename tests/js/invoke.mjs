// Drives lambkin with the real JS SDK v3 Lambda client; prints what it saw.
import {
  LambdaClient, InvokeCommand, ListFunctionsCommand,
} from '@aws-sdk/client-lambda';

const endpoint = process.argv[2];
const client = new LambdaClient({
  endpoint, region: 'us-east-1', maxAttempts: 1,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const dec = new TextDecoder();
const out = {};

let r = await client.send(new InvokeCommand({
  FunctionName: 'echo-node', Payload: JSON.stringify({ from: 'js' }),
}));
out.echo = { status: r.StatusCode, payload: JSON.parse(dec.decode(r.Payload)) };

r = await client.send(new InvokeCommand({ FunctionName: 'fail-python' }));
out.fail = { functionError: r.FunctionError,
             payload: JSON.parse(dec.decode(r.Payload)) };

try {
  await client.send(new InvokeCommand({ FunctionName: 'missing' }));
  out.missing = 'no error';
} catch (e) {
  out.missing = e.name;
}

r = await client.send(new ListFunctionsCommand({}));
out.functions = r.Functions.map((f) => f.FunctionName);
console.log(JSON.stringify(out));
