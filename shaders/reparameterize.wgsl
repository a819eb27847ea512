// The reparameterization trick of a VAE (Kingma and Welling 2014, section 2.4): a sample of
// q(z|x) = N(mu, diag(exp(logvar))) written as a differentiable function of the encoder's output
// and independent noise eps ~ N(0, I), so gradients reach the encoder through the sample.
//   forward:  z[r, j] = mu[r, j] + exp(logvar[r, j] / 2) * eps[r, j]
//   backward: d mu[r, j] = dz[r, j];  d logvar[r, j] = dz[r, j] * eps[r, j] * exp(logvar[r, j] / 2) / 2
// Layouts: stats [rows, 2 * latent] row-major, each row [mu (latent), logvar (latent)] (one dense
// layer's output); eps, z and z_grad [rows, latent]. One invocation per element of z. Smooth everywhere.
// Bindings: stats (read), eps (read), z (read_write), z_grad (read), stats_grad (read_write), params.

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  rows: u32,
  latent: u32,
}

@group(0) @binding(0) var<storage, read> stats: array<f32>;
@group(0) @binding(1) var<storage, read> eps: array<f32>;
@group(0) @binding(2) var<storage, read_write> z: array<f32>;
@group(0) @binding(3) var<storage, read> z_grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats_grad: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= params.rows * params.latent) {
    return;
  }
  let r = i / params.latent;
  let j = i % params.latent;
  // row r of stats starts at r * 2L: mu at + j, logvar at + L + j
  let mu = stats[r * 2u * params.latent + j];
  let logvar = stats[r * 2u * params.latent + params.latent + j];
  z[i] = mu + exp(0.5 * logvar) * eps[i];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= params.rows * params.latent) {
    return;
  }
  let r = i / params.latent;
  let j = i % params.latent;
  let at = r * 2u * params.latent + j;
  let logvar = stats[at + params.latent];
  stats_grad[at] = z_grad[i];
  stats_grad[at + params.latent] = z_grad[i] * eps[i] * 0.5 * exp(0.5 * logvar);
}
