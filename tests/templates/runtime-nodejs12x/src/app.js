exports.handler = async () => {
  const out = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("V_")) out[k] = v;
  }
  return out;
};
