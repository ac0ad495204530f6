// Drives lambkin's SQS with the real JS SDK v3 client, which speaks the
// JSON 1.0 protocol and checks the MD5s it gets back; prints what it saw.
import {
  SQSClient, CreateQueueCommand, SendMessageCommand, ReceiveMessageCommand,
  DeleteMessageCommand, GetQueueAttributesCommand, GetQueueUrlCommand,
} from '@aws-sdk/client-sqs';

const endpoint = process.argv[2];
const sqs = new SQSClient({
  endpoint, region: 'us-east-1', maxAttempts: 1,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const out = {};
const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'js-q' }));
await sqs.send(new SendMessageCommand({
  QueueUrl, MessageBody: 'from js',
  MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } },
}));
const r = await sqs.send(new ReceiveMessageCommand({
  QueueUrl, MessageAttributeNames: ['All'], WaitTimeSeconds: 1,
}));
const m = r.Messages[0];
out.body = m.Body;
out.attr = m.MessageAttributes.k.StringValue;
await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
const a = await sqs.send(new GetQueueAttributesCommand({
  QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'],
}));
out.left = a.Attributes.ApproximateNumberOfMessages;
try {
  await sqs.send(new GetQueueUrlCommand({ QueueName: 'nope' }));
} catch (e) {
  out.missing = e.name;
}
console.log(JSON.stringify(out));
