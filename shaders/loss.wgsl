// Training losses on logits, each returning the per-example loss and the gradient of the MEAN loss
// over the batch with respect to the logits (scale = 1 / batch), so that the backward pass starts
// from it directly. Logits are [rows, classes] row-major.
//   softmax_cross_entropy: labels[r] is the class index (as f32).
//       loss[r] = logsumexp(z_r) - z_r[label]          (computed with the row max subtracted)
//       grad[r, j] = scale * (softmax(z_r)_j - [j == label])
//   sigmoid_cross_entropy: targets[r, j] in [0, 1], one sigmoid per logit; per element
//       loss = max(z, 0) - z * t + log(1 + exp(-|z|))  (TF's sigmoid_cross_entropy_with_logits: no
//       overflow for any z), summed over the classes of a row; grad = scale * (sigmoid(z) - t).
//   batch_stats: stats[0] += sum_r loss[r]; stats[1] += number of rows whose argmax (first maximum,
//       as tf.argMax) is the label (softmax) or whose every logit is on the target's side of 0
//       (sigmoid, t >= 0.5 means positive). One invocation: a batch is at most a few hundred rows.
//   gaussian_kl: a VAE encoder's output (Kingma and Welling 2014), logits[r] = [mu (L), logvar (L)]
//       (classes = 2L): the KL divergence of q(z|x) = N(mu, diag(exp(logvar))) from the prior N(0, I),
//       loss[r] = -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j))     (the paper's appendix B);
//       grad wrt mu_j = scale * mu_j, wrt logvar_j = scale * (exp(logvar_j) - 1) / 2. No labels.
//   loss_sum: stats[0] += sum_r loss[r] (one invocation), for a loss term without an accuracy.
// The losses are smooth; argmax ties in batch_stats go to the lowest index.
// Bindings: logits (read), labels (read: class indices or targets), loss (read_write [rows]),
//           logits_grad (read_write [rows, classes]), stats (read_write [2]), params.

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  rows: u32,
  classes: u32,
  /** Multiplies the gradient: 1 / (examples in the batch). */
  scale: f32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<f32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> logits_grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn softmax_cross_entropy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = linear_index(gid, groups);
  if (r >= params.rows) {
    return;
  }
  let first = r * params.classes;
  let label = u32(labels[r]);
  var row_max = logits[first];
  for (var j = 1u; j < params.classes; j++) {
    row_max = max(row_max, logits[first + j]);
  }
  var sum = 0.0;
  for (var j = 0u; j < params.classes; j++) {
    sum += exp(logits[first + j] - row_max);
  }
  loss[r] = log(sum) + row_max - logits[first + label];
  let inverse = 1.0 / sum;
  for (var j = 0u; j < params.classes; j++) {
    let p = exp(logits[first + j] - row_max) * inverse;
    logits_grad[first + j] = params.scale * (p - select(0.0, 1.0, j == label));
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn sigmoid_cross_entropy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = linear_index(gid, groups);
  if (r >= params.rows) {
    return;
  }
  let first = r * params.classes;
  var total = 0.0;
  for (var j = 0u; j < params.classes; j++) {
    let z = logits[first + j];
    let t = labels[first + j];
    total += max(z, 0.0) - z * t + log(1.0 + exp(-abs(z)));
    logits_grad[first + j] = params.scale * (1.0 / (1.0 + exp(-z)) - t);
  }
  loss[r] = total;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gaussian_kl(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = linear_index(gid, groups);
  if (r >= params.rows) {
    return;
  }
  let latent = params.classes / 2u;
  let first = r * params.classes;
  var total = 0.0;
  for (var j = 0u; j < latent; j++) {
    let mu = logits[first + j];
    let logvar = logits[first + latent + j];
    let variance = exp(logvar);
    total += 1.0 + logvar - mu * mu - variance;
    logits_grad[first + j] = params.scale * mu;
    logits_grad[first + latent + j] = params.scale * 0.5 * (variance - 1.0);
  }
  loss[r] = -0.5 * total;
}

@compute @workgroup_size(1)
fn softmax_batch_stats() {
  var loss_sum = 0.0;
  var correct = 0.0;
  for (var r = 0u; r < params.rows; r++) {
    let first = r * params.classes;
    var best = 0u;
    for (var j = 1u; j < params.classes; j++) {
      if (logits[first + j] > logits[first + best]) {
        best = j;
      }
    }
    loss_sum += loss[r];
    correct += select(0.0, 1.0, best == u32(labels[r]));
  }
  stats[0] += loss_sum;
  stats[1] += correct;
}

@compute @workgroup_size(1)
fn sigmoid_batch_stats() {
  var loss_sum = 0.0;
  var correct = 0.0;
  for (var r = 0u; r < params.rows; r++) {
    let first = r * params.classes;
    var right = true;
    for (var j = 0u; j < params.classes; j++) {
      right = right && ((logits[first + j] >= 0.0) == (labels[first + j] >= 0.5));
    }
    loss_sum += loss[r];
    correct += select(0.0, 1.0, right);
  }
  stats[0] += loss_sum;
  stats[1] += correct;
}

@compute @workgroup_size(1)
fn loss_sum() {
  var total = 0.0;
  for (var r = 0u; r < params.rows; r++) {
    total += loss[r];
  }
  stats[0] += total;
}
