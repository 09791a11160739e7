//! The GPU device: one lazily created wgpu device and queue per process, a
//! pipeline cache keyed by shader text, and the upload / dispatch / download
//! of one compute shader. wgpu errors become [`Error`]s, never panics.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, ErrorKind, Result};

pub use super::codegen::WORKGROUP;

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
    pool: Mutex<Pool>,
    errors: Arc<Mutex<Vec<String>>>,
}

fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

/// The adapters wgpu finds (for `jitexpr info`), with whether each has
/// `SHADER_F64` and `SHADER_INT64` (what float64 and int64 need).
pub fn adapters() -> Vec<(wgpu::AdapterInfo, bool, bool)> {
    let instance = instance();
    let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    adapters
        .iter()
        .map(|a| {
            let f = a.features();
            (
                a.get_info(),
                f.contains(wgpu::Features::SHADER_F64),
                f.contains(wgpu::Features::SHADER_INT64),
            )
        })
        .collect()
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
        pool: Mutex::default(),
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

    /// A buffer of at least `size` bytes with `usage`, from the pool (sizes
    /// are rounded up to a power of two, at least 256 bytes); it returns to
    /// the pool when dropped.
    pub fn buffer(&'static self, size: u64, usage: wgpu::BufferUsages) -> Pooled {
        let size = size.max(256).next_power_of_two();
        let key = (size, usage.bits());
        let reused = self
            .pool
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take(key);
        let buffer = reused.unwrap_or_else(|| {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("jitexpr"),
                size,
                usage,
                mapped_at_creation: false,
            })
        });
        Pooled {
            gpu: self,
            key,
            buffer: Some(buffer),
        }
    }

    /// A storage buffer holding `data` (written through the queue).
    pub fn upload(&'static self, data: &[u8]) -> Pooled {
        let b = self.buffer(
            data.len() as u64,
            wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC,
        );
        // Writes are whole words: packed narrow elements may end mid-word.
        if !data.len().is_multiple_of(4) {
            let mut padded = data.to_vec();
            padded.resize(data.len().next_multiple_of(4), 0);
            self.queue.write_buffer(&b, 0, &padded);
        } else if !data.is_empty() {
            self.queue.write_buffer(&b, 0, data);
        }
        b
    }

    /// A storage buffer for results (`size` bytes, contents undefined).
    pub fn storage(&'static self, size: u64) -> Pooled {
        self.buffer(
            size,
            wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC,
        )
    }

    /// Submits one dispatch of `shader` over `groups` workgroups (a 2-D grid
    /// beyond the per-dimension limit: the shader linearizes `x + y * groups_x`,
    /// with `groups_x` from [`Gpu::grid`]), with `storage` bound at 0.. and
    /// `params` as the uniform after them.
    pub fn dispatch(
        &'static self,
        shader: &str,
        storage: &[&wgpu::Buffer],
        params: &[u8],
        groups: u64,
    ) -> Result<()> {
        let pipeline = self.pipeline(shader)?;
        let (gx, gy) = self.grid(groups)?;
        let uniform = self.buffer(
            params.len() as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        self.queue.write_buffer(&uniform, 0, params);
        let layout = pipeline.get_bind_group_layout(0);
        let mut entries: Vec<wgpu::BindGroupEntry<'_>> = storage
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        entries.push(wgpu::BindGroupEntry {
            binding: storage.len() as u32,
            resource: uniform.as_entire_binding(),
        });
        let group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("stage"),
            layout: &layout,
            entries: &entries,
        });
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("stage"),
            });
        if groups > 0 {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("stage"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &group, &[]);
            pass.dispatch_workgroups(gx, gy, 1);
        }
        self.queue.submit([encoder.finish()]);
        Ok(())
    }

    /// The grid `(x, y)` of `groups` workgroups.
    pub fn grid(&self, groups: u64) -> Result<(u32, u32)> {
        let max = u64::from(self.limits.max_compute_workgroups_per_dimension.max(1));
        let (gx, gy) = if groups <= max {
            (groups, 1)
        } else {
            (max, groups.div_ceil(max))
        };
        if gy > max {
            return Err(Error::new(
                ErrorKind::Limit,
                format!("{groups} workgroups are too many for one GPU dispatch"),
            ));
        }
        Ok((gx as u32, gy as u32))
    }

    /// Waits for the queue to finish its work; reports GPU errors.
    pub fn wait(&self) -> Result<()> {
        let _ = self.device.poll(wgpu::PollType::wait_indefinitely());
        match self.take_errors() {
            Some(e) => Err(Error::internal(format!("GPU error: {e}"))),
            None => Ok(()),
        }
    }

    /// The first `bytes` bytes of `buffer`, copied back to the host.
    pub fn download(&'static self, buffer: &wgpu::Buffer, bytes: usize) -> Result<Vec<u8>> {
        let size = (bytes as u64).next_multiple_of(4).max(4);
        let staging = self.buffer(
            size,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        );
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("download"),
            });
        encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, size);
        self.queue.submit([encoder.finish()]);
        let slice = staging.slice(..size);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait()?;
        match rx.recv() {
            Ok(Ok(())) => {}
            _ => return Err(Error::internal("GPU download failed")),
        }
        let data = slice
            .get_mapped_range()
            .map_err(|e| Error::internal(format!("GPU download: {e}")))?[..bytes]
            .to_vec();
        staging.unmap();
        Ok(data)
    }

    /// Runs `shader` with `inputs` bound at 0.., the output (`out_bytes`) after
    /// them and `params` (a uniform) last, over `n` invocations of
    /// [`WORKGROUP`]-sized workgroups; returns the output bytes.
    pub fn run(
        &'static self,
        shader: &str,
        inputs: &[Vec<u8>],
        params: &[u8],
        out_bytes: usize,
        n: usize,
    ) -> Result<Vec<u8>> {
        let buffers: Vec<Pooled> = inputs.iter().map(|d| self.upload(d)).collect();
        let out = self.storage(out_bytes as u64);
        let mut bind: Vec<&wgpu::Buffer> = buffers.iter().map(|b| &**b).collect();
        bind.push(&out);
        self.dispatch(
            shader,
            &bind,
            params,
            (n as u64).div_ceil(u64::from(WORKGROUP)),
        )?;
        self.download(&out, out_bytes)
    }
}

/// Free buffers by (size, usage), at most [`POOL_BYTES`] in all.
#[derive(Default)]
struct Pool {
    free: HashMap<(u64, u32), Vec<wgpu::Buffer>>,
    bytes: u64,
}

/// The most bytes the pool keeps.
pub const POOL_BYTES: u64 = 1 << 30;

impl Pool {
    fn take(&mut self, key: (u64, u32)) -> Option<wgpu::Buffer> {
        let b = self.free.get_mut(&key)?.pop()?;
        self.bytes -= key.0;
        Some(b)
    }

    fn give(&mut self, key: (u64, u32), buffer: wgpu::Buffer) {
        if self.bytes + key.0 <= POOL_BYTES {
            self.bytes += key.0;
            self.free.entry(key).or_default().push(buffer);
        }
    }
}

/// A buffer borrowed from the pool; returned when dropped.
pub struct Pooled {
    gpu: &'static Gpu,
    key: (u64, u32),
    buffer: Option<wgpu::Buffer>,
}

impl std::ops::Deref for Pooled {
    type Target = wgpu::Buffer;
    fn deref(&self) -> &wgpu::Buffer {
        self.buffer
            .as_ref()
            .expect("a pooled buffer is present until dropped")
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Some(b) = self.buffer.take() {
            self.gpu
                .pool
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .give(self.key, b);
        }
    }
}
