const { S3Client, PutObjectCommand, GetObjectCommand } = require('@aws-sdk/client-s3');
const { SQSClient, SendMessageCommand, ReceiveMessageCommand } = require('@aws-sdk/client-sqs');
require('@aws-sdk/client-dynamodb');
require('@aws-sdk/lib-dynamodb');
require('@aws-sdk/client-sns');
require('@aws-sdk/client-eventbridge');
require('@aws-sdk/client-secrets-manager');

const s3 = new S3Client({});
const sqs = new SQSClient({});

exports.handler = async () => {
  await s3.send(new PutObjectCommand({ Bucket: process.env.BUCKET, Key: 'k', Body: 'v3-cjs' }));
  const got = await s3.send(new GetObjectCommand({ Bucket: process.env.BUCKET, Key: 'k' }));
  await sqs.send(new SendMessageCommand({ QueueUrl: process.env.QUEUE, MessageBody: 'hello v3' }));
  const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: process.env.QUEUE }));
  return { s3: await got.Body.transformToString(), sqs: r.Messages[0].Body };
};
