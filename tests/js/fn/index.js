// A Node function that calls S3 and SQS with the JS SDK v3 and no endpoint
// of its own: lambkin's node bootstrap must point the clients at itself.
const { S3Client, PutObjectCommand } = require('@aws-sdk/client-s3');
const { SQSClient, SendMessageCommand } = require('@aws-sdk/client-sqs');

exports.handler = async (event) => {
  const s3 = new S3Client({});
  const sqs = new SQSClient({});
  await s3.send(new PutObjectCommand({
    Bucket: 'node-out', Key: 'from-node.txt', Body: JSON.stringify(event),
  }));
  await sqs.send(new SendMessageCommand({ QueueUrl: 'node-q', MessageBody: 'from node' }));
  return { ok: true };
};
