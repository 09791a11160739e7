//! The GPU device: one lazily created wgpu device and queue per process, a
//! pipeline cache keyed by shader text, and the upload / dispatch / download
//! of one compute shader. wgpu errors become [`Error`]s, never panics.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use wgpu::util::DeviceExt;

use crate::error::{Error, ErrorKind, Result};

/// Threads per workgroup of every shader (the `@workgroup_size`).
pub const WORKGROUP: u32 = 256;

/// The device, its queue and what it can do.
pub struct Gpu {
    /// The wgpu device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// `adapter.get_info()`.
    pub info: wgpu::AdapterInfo,
    /// The device's limits.
    pub limits: wgpu::Limits,
    /// The device's features (SHADER_F64, SHADER_INT64 matter).
    pub features: wgpu::Features,
    pipelines: Mutex<HashMap<String, Arc<wgpu::ComputePipeline>>>,
    errors: Arc<Mutex<Vec<String>>>,
}

fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

/// The adapters wgpu finds (for `jitexpr info`).
pub fn adapters() -> Vec<wgpu::AdapterInfo> {
    let instance = instance();
    let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    adapters.iter().map(|a| a.get_info()).collect()
}

/// The process's GPU, created on first use.
pub fn gpu() -> Result<&'static Gpu> {
    static GPU: OnceLock<std::result::Result<Gpu, String>> = OnceLock::new();
    GPU.get_or_init(open)
        .as_ref()
        .map_err(|e| {
            Error::new(ErrorKind::Unsupported, format!("no GPU available: {e}"))
                .with_help("use the JIT backend (the default); on Linux without a GPU, install Mesa's lavapipe (mesa-vulkan-drivers)")
        })
}

fn open() -> std::result::Result<Gpu, String> {
    let instance = instance();
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        force_fallback_adapter: false,
        compatible_surface: None,
        apply_limit_buckets: false,
    }))
    .map_err(|e| format!("no adapter: {e}"))?;
    let info = adapter.get_info();
    let features = adapter.features() & (wgpu::Features::SHADER_F64 | wgpu::Features::SHADER_INT64);
    let limits = adapter.limits();
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("jitexpr"),
        required_features: features,
        required_limits: limits.clone(),
        ..Default::default()
    }))
    .map_err(|e| format!("{}: {e}", info.name))?;
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = Arc::clone(&errors);
    device.on_uncaptured_error(Arc::new(move |e| {
        sink.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e.to_string());
    }));
    Ok(Gpu {
        device,
        queue,
        info,
        limits,
        features,
        pipelines: Mutex::new(HashMap::new()),
        errors,
    })
}

impl Gpu {
    /// A short description: `name (backend, type)`.
    pub fn describe(&self) -> String {
        format!(
            "{} ({:?}, {:?})",
            self.info.name, self.info.backend, self.info.device_type
        )
    }

    fn take_errors(&self) -> Option<String> {
        let mut e = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        if e.is_empty() {
            None
        } else {
            Some(e.drain(..).collect::<Vec<_>>().join("; "))
        }
    }

    /// The compiled pipeline for `shader` (cached by its text).
    pub fn pipeline(&self, shader: &str) -> Result<Arc<wgpu::ComputePipeline>> {
        if let Some(p) = self
            .pipelines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(shader)
        {
            return Ok(Arc::clone(p));
        }
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some("jitexpr stage"),
                source: wgpu::ShaderSource::Wgsl(shader.into()),
            });
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some("jitexpr stage"),
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            });
        let _ = self.device.poll(wgpu::PollType::wait_indefinitely());
        if let Some(e) = self.take_errors() {
            return Err(Error::internal(format!("GPU shader rejected: {e}")));
        }
        let pipeline = Arc::new(pipeline);
        self.pipelines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(shader.to_string(), Arc::clone(&pipeline));
        Ok(pipeline)
    }

    /// Runs `shader` with `inputs` bound at 0.., the output (`out_bytes`) after
    /// them and `params` (a uniform) last, over `n` invocations; returns the output bytes.
    pub fn run(
        &self,
        shader: &str,
        inputs: &[Vec<u8>],
        params: &[u8],
        out_bytes: usize,
        n: usize,
    ) -> Result<Vec<u8>> {
        let pipeline = self.pipeline(shader)?;
        let d = &self.device;
        let mut buffers = Vec::new();
        for data in inputs {
            // Storage buffers may not be empty.
            let contents: &[u8] = if data.is_empty() { &[0; 4] } else { data };
            buffers.push(d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("input"),
                contents,
                usage: wgpu::BufferUsages::STORAGE,
            }));
        }
        let out_size = (out_bytes.max(4) as u64).next_multiple_of(4);
        let out = d.create_buffer(&wgpu::BufferDescriptor {
            label: Some("output"),
            size: out_size,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let staging = d.create_buffer(&wgpu::BufferDescriptor {
            label: Some("download"),
            size: out_size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let uniform = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("params"),
            contents: params,
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let layout = pipeline.get_bind_group_layout(0);
        let mut entries: Vec<wgpu::BindGroupEntry<'_>> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        entries.push(wgpu::BindGroupEntry {
            binding: inputs.len() as u32,
            resource: out.as_entire_binding(),
        });
        entries.push(wgpu::BindGroupEntry {
            binding: inputs.len() as u32 + 1,
            resource: uniform.as_entire_binding(),
        });
        let group = d.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("stage"),
            layout: &layout,
            entries: &entries,
        });
        let groups = (n as u64).div_ceil(u64::from(WORKGROUP));
        let max = u64::from(self.limits.max_compute_workgroups_per_dimension.max(1));
        // More than `max` workgroups: a 2-D grid (the shader linearizes it).
        let (gx, gy) = if groups <= max {
            (groups, 1)
        } else {
            (max, groups.div_ceil(max))
        };
        if gy > max {
            return Err(Error::new(
                ErrorKind::Limit,
                format!("{n} elements are too many for one GPU dispatch"),
            ));
        }
        let mut encoder = d.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("stage"),
        });
        if n > 0 {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("stage"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &group, &[]);
            pass.dispatch_workgroups(gx as u32, gy as u32, 1);
        }
        encoder.copy_buffer_to_buffer(&out, 0, &staging, 0, out_size);
        self.queue.submit([encoder.finish()]);
        let slice = staging.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        let _ = d.poll(wgpu::PollType::wait_indefinitely());
        match rx.recv() {
            Ok(Ok(())) => {}
            _ => return Err(Error::internal("GPU download failed")),
        }
        if let Some(e) = self.take_errors() {
            return Err(Error::internal(format!("GPU error: {e}")));
        }
        let bytes = slice
            .get_mapped_range()
            .map_err(|e| Error::internal(format!("GPU download: {e}")))?
            .to_vec();
        staging.unmap();
        Ok(bytes[..out_bytes].to_vec())
    }
}
