// s2rdepth C++ example: run an exported TorchScript depth artifact on one image with libtorch.
//
//   s2rdepth_depth ARTIFACT.pt IMAGE.ppm [--out DEPTH.pgm] [--device cpu|cuda] [--threads N]
//
// ARTIFACT.pt is written by `s2rdepth export --format torchscript` (or s2rdepth.export in Python).
// Its metadata (extra file "s2rdepth.json") gives the network input size; the artifact takes
// N x 3 x H x W images at exactly that size, uint8 in [0, 255] or float in [0, 1] (see the
// metadata's "input_dtype"), and returns depth in metres, N x 1 x H x W.
//
// IMAGE is a binary PPM (P6, RGB) or PGM (P5, grey: replicated to three channels), 8 or 16 bit
// (16-bit samples are divided by maxval). Convert other formats first, e.g. with Pillow:
//   python -c "from PIL import Image; Image.open('in.png').convert('RGB').save('in.ppm')"
// The image is resized to the network size (bilinear, half-pixel centres, as s2rdepth.predict
// does) and the depth map back to the image size. The program prints depth statistics in metres
// as "key value" lines and optionally writes a 16-bit PGM of round(depth * 256) (KITTI convention).
//
// Exit status: 0 on success, 1 on any error (message on stderr), 2 on bad usage.
#include <torch/cuda.h>
#include <torch/script.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "netpbm.hpp"

namespace {

using s2rdepth_example::NetpbmImage;

struct Metadata {
  int64_t height = 0;
  int64_t width = 0;
  std::string input_dtype = "uint8";  // "uint8", "float32" or "any"
  std::string arch;
};

// Finds `"key":` in the flat metadata JSON written by s2rdepth (keys are unique there) and returns
// the position just after the colon, or npos.
size_t find_key(const std::string& json, const std::string& key) {
  const std::string quoted = "\"" + key + "\"";
  size_t pos = json.find(quoted);
  if (pos == std::string::npos) return pos;
  pos = json.find(':', pos + quoted.size());
  return pos == std::string::npos ? pos : pos + 1;
}

int64_t json_int(const std::string& json, const std::string& key) {
  size_t pos = find_key(json, key);
  if (pos == std::string::npos) throw std::runtime_error("artifact metadata has no \"" + key + "\"");
  return std::strtoll(json.c_str() + pos, nullptr, 10);
}

std::string json_string(const std::string& json, const std::string& key, const std::string& fallback) {
  size_t pos = find_key(json, key);
  if (pos == std::string::npos) return fallback;
  size_t open = json.find('"', pos);
  size_t close = open == std::string::npos ? open : json.find('"', open + 1);
  if (close == std::string::npos) return fallback;
  return json.substr(open + 1, close - open - 1);
}

Metadata parse_metadata(const std::string& json) {
  if (json.empty()) {
    throw std::runtime_error("the artifact has no s2rdepth.json metadata: export it with s2rdepth export");
  }
  Metadata m;
  m.height = json_int(json, "input_height");
  m.width = json_int(json, "input_width");
  m.input_dtype = json_string(json, "input_dtype", "uint8");
  m.arch = json_string(json, "arch", "?");
  if (m.height <= 0 || m.width <= 0) throw std::runtime_error("artifact metadata: bad input size");
  return m;
}

// H x W x C samples → 1 x 3 x H x W float in [0, 1] (grey replicated to three channels).
torch::Tensor image_to_float(const NetpbmImage& img) {
  std::vector<float> values(img.data.size());
  const float scale = 1.0f / static_cast<float>(img.maxval);
  for (size_t i = 0; i < img.data.size(); ++i) values[i] = static_cast<float>(img.data[i]) * scale;
  torch::Tensor t = torch::from_blob(values.data(), {img.height, img.width, img.channels}, torch::kFloat32)
                        .clone();
  t = t.permute({2, 0, 1}).unsqueeze(0);
  if (img.channels == 1) t = t.expand({1, 3, img.height, img.width});
  return t.contiguous();
}

// H x W x C 8-bit samples → 1 x 3 x H x W uint8 (exact, no rounding).
torch::Tensor image_to_uint8(const NetpbmImage& img) {
  std::vector<uint8_t> values(img.data.begin(), img.data.end());
  torch::Tensor t = torch::from_blob(values.data(), {img.height, img.width, img.channels}, torch::kUInt8)
                        .clone();
  t = t.permute({2, 0, 1}).unsqueeze(0);
  if (img.channels == 1) t = t.expand({1, 3, img.height, img.width});
  return t.contiguous();
}

torch::Tensor resize_bilinear(const torch::Tensor& x, int64_t h, int64_t w) {
  // Same as torch.nn.functional.interpolate(x, size=(h, w), mode="bilinear", align_corners=False).
  return at::upsample_bilinear2d(x, {h, w}, /*align_corners=*/false);
}

// The network input: exact uint8 pixels when the image already has the network size, otherwise
// a float [0, 1] image resized to it (re-quantised to uint8 for a uint8-only artifact).
torch::Tensor make_input(const NetpbmImage& img, const Metadata& meta) {
  const bool same_size = img.height == meta.height && img.width == meta.width;
  if (same_size && img.maxval == 255 && meta.input_dtype != "float32") return image_to_uint8(img);
  torch::Tensor x = image_to_float(img);
  if (!same_size) x = resize_bilinear(x, meta.height, meta.width);
  if (meta.input_dtype == "uint8") x = (x * 255.0).round().clamp(0, 255).to(torch::kUInt8);
  return x.contiguous();
}

void print_stats(const torch::Tensor& depth) {
  torch::Tensor flat = depth.flatten().to(torch::kFloat64);
  torch::Tensor sorted = std::get<0>(flat.sort());
  const int64_t n = sorted.numel();
  auto quantile = [&](double q) {
    double pos = q * static_cast<double>(n - 1);
    int64_t lo = static_cast<int64_t>(std::floor(pos));
    int64_t hi = std::min<int64_t>(lo + 1, n - 1);
    double a = sorted[lo].item<double>(), b = sorted[hi].item<double>();
    return a + (b - a) * (pos - static_cast<double>(lo));
  };
  std::cout << std::setprecision(9);
  std::cout << "depth_min_m " << sorted[0].item<double>() << "\n";
  std::cout << "depth_max_m " << sorted[n - 1].item<double>() << "\n";
  std::cout << "depth_mean_m " << flat.mean().item<double>() << "\n";
  std::cout << "depth_median_m " << quantile(0.5) << "\n";
  std::cout << "depth_p05_m " << quantile(0.05) << "\n";
  std::cout << "depth_p95_m " << quantile(0.95) << "\n";
  std::cout << "finite " << (torch::isfinite(flat).all().item<bool>() ? 1 : 0) << "\n";
}

int usage(const char* prog) {
  std::cerr << "usage: " << prog
            << " ARTIFACT.pt IMAGE.ppm|IMAGE.pgm [--out DEPTH.pgm] [--device cpu|cuda] [--threads N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> positional;
  std::string out_path, device_name = "cpu";
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--out" || arg == "--device" || arg == "--threads") && i + 1 < argc) {
      std::string value = argv[++i];
      if (arg == "--out") out_path = value;
      else if (arg == "--device") device_name = value;
      else threads = std::atoi(value.c_str());
    } else if (arg == "-h" || arg == "--help") {
      usage(argv[0]);
      return 0;
    } else if (!arg.empty() && arg[0] == '-') {
      return usage(argv[0]);
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() != 2) return usage(argv[0]);

  try {
    if (threads > 0) at::set_num_threads(threads);
    torch::Device device(device_name);
    if (device.is_cuda() && !torch::cuda::is_available()) {
      throw std::runtime_error("--device cuda requested but CUDA is not available");
    }
    NetpbmImage img = s2rdepth_example::read_netpbm(positional[1]);

    torch::jit::ExtraFilesMap extra{{"s2rdepth.json", ""}};
    torch::jit::Module module = torch::jit::load(positional[0], device, extra);
    module.eval();
    Metadata meta = parse_metadata(extra["s2rdepth.json"]);

    torch::InferenceMode guard;
    torch::Tensor input = make_input(img, meta).to(device);
    auto t0 = std::chrono::steady_clock::now();
    torch::jit::IValue result = module.forward({input});
    torch::Tensor depth = result.isTuple() ? result.toTuple()->elements()[0].toTensor() : result.toTensor();
    depth = depth.to(torch::kCPU).to(torch::kFloat32);
    auto t1 = std::chrono::steady_clock::now();
    if (depth.dim() != 4 || depth.size(1) != 1) throw std::runtime_error("unexpected artifact output shape");
    if (depth.size(2) != img.height || depth.size(3) != img.width) {
      depth = resize_bilinear(depth, img.height, img.width);
    }

    std::cout << "artifact " << positional[0] << " (" << meta.arch << ", input " << meta.height << "x"
              << meta.width << " " << meta.input_dtype << ")\n";
    std::cout << "image " << img.height << "x" << img.width << " channels " << img.channels << " maxval "
              << img.maxval << "\n";
    std::cout << "forward_ms " << std::chrono::duration<double, std::milli>(t1 - t0).count() << "\n";
    print_stats(depth);

    if (!out_path.empty()) {
      torch::Tensor q = (depth[0][0] * 256.0).round().clamp(0, 65535).to(torch::kInt32).contiguous();
      std::vector<uint16_t> samples(static_cast<size_t>(q.numel()));
      const int32_t* p = q.data_ptr<int32_t>();
      for (size_t i = 0; i < samples.size(); ++i) samples[i] = static_cast<uint16_t>(p[i]);
      s2rdepth_example::write_pgm16(out_path, img.width, img.height, samples);
      std::cout << "wrote " << out_path << "\n";
    }
  } catch (const c10::Error& e) {
    std::cerr << "error: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
