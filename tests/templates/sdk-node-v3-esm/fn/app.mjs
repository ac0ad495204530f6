import { S3Client, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { SQSClient, SendMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';

const s3 = new S3Client({});
const sqs = new SQSClient({});

export const handler = async () => {
  await s3.send(new PutObjectCommand({ Bucket: process.env.BUCKET, Key: 'k', Body: 'v3-esm' }));
  const got = await s3.send(new GetObjectCommand({ Bucket: process.env.BUCKET, Key: 'k' }));
  await sqs.send(new SendMessageCommand({ QueueUrl: process.env.QUEUE, MessageBody: 'hello esm' }));
  const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: process.env.QUEUE }));
  return { s3: await got.Body.transformToString(), sqs: r.Messages[0].Body };
};
