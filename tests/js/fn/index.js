// A Node function that calls S3 and SQS with the JS SDK v3 and no endpoint
// of its own: lambkin's node bootstrap must point the clients at itself.
const { S3Client, PutObjectCommand } = require('@aws-sdk/client-s3');
const { SQSClient, SendMessageCommand } = require('@aws-sdk/client-sqs');

// A service lambkin does not emulate (its client comes from the SDK the
// runtime provides): the error the SDK reports, by name.
async function secret(id) {
  const { SecretsManagerClient, GetSecretValueCommand } =
    require('@aws-sdk/client-secrets-manager');
  try {
    await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: id }));
    return { error: null };
  } catch (e) {
    return { error: e.name, message: e.message };
  }
}

// Who am I: the account and the function's own role session, as code
// that builds ARNs or bucket names from the account id asks at start.
async function whoami() {
  const { STSClient, GetCallerIdentityCommand } = require('@aws-sdk/client-sts');
  const out = await new STSClient({}).send(new GetCallerIdentityCommand({}));
  return { Account: out.Account, Arn: out.Arn, UserId: out.UserId };
}

exports.handler = async (event) => {
  if (event.secret) return secret(event.secret);
  if (event.whoami) return whoami();
  const s3 = new S3Client({});
  const sqs = new SQSClient({});
  await s3.send(new PutObjectCommand({
    Bucket: 'node-out', Key: 'from-node.txt', Body: JSON.stringify(event),
  }));
  await sqs.send(new SendMessageCommand({ QueueUrl: 'node-q', MessageBody: 'from node' }));
  return { ok: true };
};
