const AWS = require('aws-sdk');
const SQS = require('aws-sdk/clients/sqs');

const s3 = new AWS.S3();
const sqs = new SQS();

exports.handler = async () => {
  await s3.putObject({ Bucket: process.env.BUCKET, Key: 'k', Body: 'v2' }).promise();
  const got = await s3.getObject({ Bucket: process.env.BUCKET, Key: 'k' }).promise();
  await sqs.sendMessage({ QueueUrl: process.env.QUEUE, MessageBody: 'hello v2' }).promise();
  const r = await sqs.receiveMessage({ QueueUrl: process.env.QUEUE }).promise();
  return { s3: got.Body.toString(), sqs: r.Messages[0].Body };
};
