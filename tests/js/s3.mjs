// Drives lambkin's S3 with the real JS SDK v3 S3 client (path style, and the
// SDK's own checksum handling); prints what it saw.
import {
  S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';

const endpoint = process.argv[2];
const s3 = new S3Client({
  endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const out = {};
await s3.send(new CreateBucketCommand({ Bucket: 'js-bucket' }));
await s3.send(new PutObjectCommand({
  Bucket: 'js-bucket', Key: 'js/one.txt', Body: 'from js',
}));
const got = await s3.send(new GetObjectCommand({
  Bucket: 'js-bucket', Key: 'js/one.txt',
}));
out.body = await got.Body.transformToString();
const list = await s3.send(new ListObjectsV2Command({ Bucket: 'js-bucket' }));
out.keys = list.Contents.map((c) => c.Key);
try {
  await s3.send(new GetObjectCommand({ Bucket: 'js-bucket', Key: 'nope' }));
} catch (e) {
  out.missing = e.name;
}
console.log(JSON.stringify(out));
