//! Adapters, device choice and the GPU context (device, queue, compiled kernels).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use wgpu::util::DeviceExt;

use crate::GpuError;
use crate::bases::KeptBases;
use crate::fft::KeptTwiddles;
use crate::shader::{self, FieldForm};

/// Invocations per workgroup in every kernel (`@workgroup_size(64)`).
const WORKGROUP_SIZE: u32 = 64;

/// What kind of processor an adapter runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdapterKind {
    /// A discrete, integrated or virtualised GPU.
    Hardware,
    /// A software rasteriser on the CPU (lavapipe, SwiftShader, WARP).
    Software,
    /// The driver does not say.
    Unknown,
}

/// One adapter as `zkinfer devices` lists it.
#[derive(Clone, Debug)]
pub struct AdapterSummary {
    /// Its index in the listing (`--device gpu:N`).
    pub index: usize,
    /// The driver's name for it.
    pub name: String,
    /// Vulkan, Metal or DX12.
    pub backend: String,
    /// wgpu's device type (discrete, integrated, virtual, cpu, other).
    pub device_type: String,
    /// Hardware or software.
    pub kind: AdapterKind,
    /// Driver and driver version.
    pub driver: String,
    /// Largest buffer, in bytes.
    pub max_buffer_size: u64,
    /// Largest storage-buffer binding, in bytes.
    pub max_storage_binding: u64,
    /// Largest dispatch along one dimension, in workgroups.
    pub max_workgroups_per_dimension: u32,
}

impl std::fmt::Display for AdapterSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "gpu:{}  {} ({}, {}, {})  driver: {}  max buffer {} MiB, max binding {} MiB, {} workgroups per dimension",
            self.index,
            self.name,
            self.backend,
            self.device_type,
            match self.kind {
                AdapterKind::Hardware => "hardware",
                AdapterKind::Software => "software",
                AdapterKind::Unknown => "unknown kind",
            },
            self.driver.trim(),
            self.max_buffer_size >> 20,
            self.max_storage_binding >> 20,
            self.max_workgroups_per_dimension,
        )
    }
}

fn instance() -> wgpu::Instance {
    let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle();
    descriptor.backends = wgpu::Backends::VULKAN | wgpu::Backends::METAL | wgpu::Backends::DX12;
    wgpu::Instance::new(descriptor)
}

fn summary(index: usize, adapter: &wgpu::Adapter) -> AdapterSummary {
    let info = adapter.get_info();
    let limits = adapter.limits();
    let kind = match info.device_type {
        wgpu::DeviceType::DiscreteGpu | wgpu::DeviceType::IntegratedGpu | wgpu::DeviceType::VirtualGpu => {
            AdapterKind::Hardware
        }
        wgpu::DeviceType::Cpu => AdapterKind::Software,
        wgpu::DeviceType::Other => AdapterKind::Unknown,
    };
    AdapterSummary {
        index,
        name: info.name,
        backend: format!("{:?}", info.backend),
        device_type: format!("{:?}", info.device_type),
        kind,
        driver: format!("{} {}", info.driver, info.driver_info),
        max_buffer_size: limits.max_buffer_size,
        max_storage_binding: limits.max_storage_buffer_binding_size,
        max_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
    }
}

fn adapters() -> Vec<wgpu::Adapter> {
    pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()))
}

/// Every adapter wgpu finds (Vulkan, Metal, DX12), in a stable order.
pub fn list_adapters() -> Vec<AdapterSummary> {
    adapters().iter().enumerate().map(|(i, a)| summary(i, a)).collect()
}

/// Which adapter proves (`zkinfer prove --device`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeviceChoice {
    /// The first hardware GPU; the CPU when there is none (never a software adapter).
    #[default]
    Auto,
    /// The CPU backend.
    Cpu,
    /// A GPU adapter, software ones included: the first, or the one at this listing index.
    Gpu(Option<usize>),
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "gpu" => Ok(Self::Gpu(None)),
            _ => s
                .strip_prefix("gpu:")
                .and_then(|n| n.parse().ok())
                .map(|n| Self::Gpu(Some(n)))
                .ok_or_else(|| format!("unknown device '{s}' (expected auto, cpu, gpu or gpu:N)")),
        }
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Auto => write!(f, "auto"),
            Self::Cpu => write!(f, "cpu"),
            Self::Gpu(None) => write!(f, "gpu"),
            Self::Gpu(Some(n)) => write!(f, "gpu:{n}"),
        }
    }
}

/// A kernel: compiled on first use (a software adapter takes minutes for the curve kernels,
/// so a run compiles only those it needs).
#[derive(Debug)]
pub(crate) struct Kernel {
    module: Arc<wgpu::ShaderModule>,
    entry: &'static str,
    pipeline: std::sync::OnceLock<wgpu::ComputePipeline>,
}

impl Kernel {
    fn new(module: &Arc<wgpu::ShaderModule>, entry: &'static str) -> Self {
        Self { module: module.clone(), entry, pipeline: std::sync::OnceLock::new() }
    }

    /// The pipeline, compiled now if it was not yet.
    pub(crate) fn get(&self, ctx: &GpuContext) -> &wgpu::ComputePipeline {
        self.pipeline.get_or_init(|| {
            ctx.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(self.entry),
                layout: None,
                module: &self.module,
                entry_point: Some(self.entry),
                compilation_options: Default::default(),
                cache: None,
            })
        })
    }
}

/// The kernels.
#[derive(Debug)]
pub(crate) struct Kernels {
    pub bucket_sum: Kernel,
    pub partial_sum: Kernel,
    pub bucket_reduce: Kernel,
    pub to_mont: Kernel,
    pub from_mont: Kernel,
    pub bit_reverse: Kernel,
    pub butterfly: Kernel,
    pub field_ops: Kernel,
    pub curve_ops: Kernel,
    pub add_chain: Kernel,
    pub add_affine_chain: Kernel,
    pub mul_chain: Kernel,
    pub fold_bits: Kernel,
    pub fold_finish: Kernel,
    pub numerator_pass: Kernel,
    pub numerator_finish: Kernel,
}

/// An open GPU: device, queue, kernels, the first error the device reported, and what stays on
/// the device between calls (the MSM's generator sets, the FFT's twiddle tables).
#[derive(Debug)]
pub struct GpuContext {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) kernels: Kernels,
    adapter: AdapterSummary,
    limits: wgpu::Limits,
    error: Arc<Mutex<Option<String>>>,
    form: FieldForm,
    profiling: AtomicBool,
    /// The MSM's generator sets kept on the device.
    pub(crate) kept_bases: KeptBases,
    /// The FFT's twiddle tables kept on the device.
    pub(crate) kept_twiddles: KeptTwiddles,
}

impl GpuContext {
    /// Opens the adapter `choice` names: for [`DeviceChoice::Auto`] the first hardware GPU,
    /// for [`DeviceChoice::Gpu`] the first adapter or the one at that index, with the field code
    /// in its default form ([`FieldForm::DEFAULT`]).
    pub fn open(choice: DeviceChoice) -> Result<Self, GpuError> {
        Self::open_with(choice, FieldForm::DEFAULT)
    }

    /// The same, with the field code in the given form.
    pub fn open_with(choice: DeviceChoice, form: FieldForm) -> Result<Self, GpuError> {
        let mut adapters: Vec<(AdapterSummary, wgpu::Adapter)> =
            adapters().into_iter().enumerate().map(|(i, a)| (summary(i, &a), a)).collect();
        let position = match choice {
            DeviceChoice::Cpu => return Err(GpuError::NoAdapter("the CPU was chosen".into())),
            DeviceChoice::Auto => adapters.iter().position(|(s, _)| s.kind == AdapterKind::Hardware),
            DeviceChoice::Gpu(None) => (!adapters.is_empty()).then_some(0),
            DeviceChoice::Gpu(Some(n)) => (n < adapters.len()).then_some(n),
        };
        let Some(position) = position else {
            let found = if adapters.is_empty() {
                "no GPU adapter found (is a Vulkan driver installed?)".to_string()
            } else {
                let names: Vec<String> = adapters.iter().map(|(s, _)| format!("gpu:{} {}", s.index, s.name)).collect();
                match choice {
                    DeviceChoice::Auto => format!("no hardware GPU among the adapters ({})", names.join(", ")),
                    _ => format!("no adapter {choice} among {}", names.join(", ")),
                }
            };
            return Err(GpuError::NoAdapter(found));
        };
        let (summary, adapter) = adapters.swap_remove(position);
        let limits = adapter.limits();
        // 64-bit integers in shaders where the adapter has them (FieldForm::Int64).
        let features = adapter.features() & wgpu::Features::SHADER_INT64;
        if !form.runs_with(features) {
            return Err(GpuError::Device(format!(
                "{}: the field code `{form}` needs 64-bit integers in shaders, which this adapter lacks",
                summary.name
            )));
        }
        let descriptor = wgpu::DeviceDescriptor {
            label: Some("zkinfer"),
            required_limits: limits.clone(),
            required_features: features,
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&descriptor))
            .map_err(|e| GpuError::Device(format!("{}: {e}", summary.name)))?;
        let error = Arc::new(Mutex::new(None));
        let slot = error.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert_with(|| e.to_string());
        }));
        let kernels = compile(&device, form);
        let context = Self {
            device,
            queue,
            kernels,
            adapter: summary,
            limits,
            error,
            form,
            profiling: AtomicBool::new(false),
            kept_bases: KeptBases::default(),
            kept_twiddles: KeptTwiddles::default(),
        };
        context.check()?;
        Ok(context)
    }

    /// The adapter this context runs on.
    pub fn adapter(&self) -> &AdapterSummary {
        &self.adapter
    }

    /// Plans the kernels' buffers for storage bindings of at most `bytes` (never more than the
    /// adapter allows): work is then split, or refused as too large, as on an adapter with
    /// that limit. It lets the tests exercise the splits on an adapter with large limits.
    pub fn limit_binding(&mut self, bytes: u64) {
        let limit = &mut self.limits.max_storage_buffer_binding_size;
        *limit = (*limit).min(bytes);
    }

    /// The form of the kernels' field code.
    pub fn field_form(&self) -> FieldForm {
        self.form
    }

    /// Whether the device runs shaders with 64-bit integers ([`FieldForm::Int64`]).
    pub fn has_int64(&self) -> bool {
        self.device.features().contains(wgpu::Features::SHADER_INT64)
    }

    /// Profiling on or off. When on, the MSM waits for the device after each of its phases
    /// (which costs a little) and prints every phase's time on stderr, one line per MSM.
    pub fn set_profiling(&self, on: bool) {
        self.profiling.store(on, Ordering::Relaxed);
    }

    pub(crate) fn profiling(&self) -> bool {
        self.profiling.load(Ordering::Relaxed)
    }

    /// Submits `encoder`'s work and waits until the device has done it.
    pub(crate) fn finish_now(&self, encoder: wgpu::CommandEncoder) -> Result<(), GpuError> {
        self.queue.submit([encoder.finish()]);
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::Device(format!("waiting for the GPU: {e}")))?;
        self.check()
    }

    /// Fails with the first error the device reported (validation, out of memory, loss).
    pub(crate) fn check(&self) -> Result<(), GpuError> {
        let slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_ref() {
            Some(e) => Err(GpuError::Device(e.clone())),
            None => Ok(()),
        }
    }

    /// Largest storage buffer one binding may hold, in bytes.
    pub(crate) fn max_binding(&self) -> u64 {
        self.limits.max_storage_buffer_binding_size.min(self.limits.max_buffer_size)
    }

    /// How many items of `words` u32 words each one storage binding holds.
    pub(crate) fn binding_holds(&self, words: usize) -> usize {
        usize::try_from(self.max_binding() / (words as u64 * 4)).unwrap_or(usize::MAX)
    }

    /// The dispatch grid for `threads` threads: workgroups along x up to the adapter's limit,
    /// then rows along y; returns the grid and the threads per row.
    pub(crate) fn grid(&self, threads: u32) -> Result<(u32, u32, u32), GpuError> {
        let groups = threads.div_ceil(WORKGROUP_SIZE).max(1);
        let max = self.limits.max_compute_workgroups_per_dimension;
        let x = groups.min(max);
        let y = groups.div_ceil(x);
        if y > max {
            return Err(GpuError::TooLarge(format!("{threads} threads do not fit one dispatch")));
        }
        Ok((x, y, x * WORKGROUP_SIZE))
    }

    /// A storage buffer holding `words`.
    pub(crate) fn storage(&self, label: &str, words: &[u32]) -> Result<wgpu::Buffer, GpuError> {
        self.fits(label, words.len() as u64 * 4)?;
        Ok(self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(words),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        }))
    }

    /// An uninitialised storage buffer of `words` words.
    pub(crate) fn scratch(&self, label: &str, words: usize) -> Result<wgpu::Buffer, GpuError> {
        let bytes = (words.max(1) as u64) * 4;
        self.fits(label, bytes)?;
        Ok(self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        }))
    }

    /// A uniform buffer holding `words`.
    pub(crate) fn uniform(&self, label: &str, words: &[u32]) -> wgpu::Buffer {
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(words),
            usage: wgpu::BufferUsages::UNIFORM,
        })
    }

    fn fits(&self, label: &str, bytes: u64) -> Result<(), GpuError> {
        if bytes > self.max_binding() {
            return Err(GpuError::TooLarge(format!(
                "{label}: {bytes} bytes exceed the adapter's binding limit of {}",
                self.max_binding()
            )));
        }
        Ok(())
    }

    /// A bind group over `buffers` (binding number, buffer) of `pipeline`'s group 0.
    pub(crate) fn bind(&self, pipeline: &wgpu::ComputePipeline, buffers: &[(u32, &wgpu::Buffer)]) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .map(|(binding, b)| wgpu::BindGroupEntry { binding: *binding, resource: b.as_entire_binding() })
            .collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        })
    }

    /// Submits `encoder`, copies `buffer` back and waits for it.
    pub(crate) fn read_back(
        &self,
        mut encoder: wgpu::CommandEncoder,
        buffer: &wgpu::Buffer,
    ) -> Result<Vec<u32>, GpuError> {
        let size = buffer.size();
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("read back"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, size);
        self.queue.submit([encoder.finish()]);
        let (sender, receiver) = std::sync::mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |result| {
            // The receiver waits below; a failed send only means it is gone.
            let _ = sender.send(result);
        });
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::Device(format!("waiting for the GPU: {e}")))?;
        self.check()?;
        receiver
            .recv()
            .map_err(|_| GpuError::Device("the read-back was dropped".into()))?
            .map_err(|e| GpuError::Device(format!("reading back: {e}")))?;
        let words = {
            let view = staging.get_mapped_range(..).map_err(|e| GpuError::Device(format!("reading back: {e}")))?;
            bytemuck::cast_slice::<u8, u32>(&view).to_vec()
        };
        staging.unmap();
        Ok(words)
    }

    /// Runs `pipeline` over `threads` threads with `bind_group` inside `encoder`.
    pub(crate) fn dispatch(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        pipeline: &wgpu::ComputePipeline,
        bind_group: &wgpu::BindGroup,
        grid: (u32, u32),
    ) {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, bind_group, &[]);
        pass.dispatch_workgroups(grid.0, grid.1, 1);
    }

    pub(crate) fn encoder(&self) -> wgpu::CommandEncoder {
        self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor::default())
    }
}

fn compile(device: &wgpu::Device, form: FieldForm) -> Kernels {
    let module = |label: &str, source: String| {
        Arc::new(device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        }))
    };
    let curve = module("curve", shader::curve_source(form));
    let fft = module("fft", shader::fft_source(form));
    let curve_test = module("curve test", shader::curve_test_source(form));
    let fold = module("fold", shader::fold_source(form));
    let numerator = module("numerator", shader::numerator_source(form));
    Kernels {
        bucket_sum: Kernel::new(&curve, "bucket_sum"),
        partial_sum: Kernel::new(&curve, "partial_sum"),
        bucket_reduce: Kernel::new(&curve, "bucket_reduce"),
        to_mont: Kernel::new(&fft, "to_mont"),
        from_mont: Kernel::new(&fft, "from_mont"),
        bit_reverse: Kernel::new(&fft, "bit_reverse"),
        butterfly: Kernel::new(&fft, "butterfly"),
        field_ops: Kernel::new(&fft, "field_ops"),
        curve_ops: Kernel::new(&curve_test, "curve_ops"),
        add_chain: Kernel::new(&curve_test, "add_chain"),
        add_affine_chain: Kernel::new(&curve_test, "add_affine_chain"),
        mul_chain: Kernel::new(&curve_test, "mul_chain"),
        fold_bits: Kernel::new(&fold, "fold_bits"),
        fold_finish: Kernel::new(&fold, "fold_finish"),
        numerator_pass: Kernel::new(&numerator, "numerator_pass"),
        numerator_finish: Kernel::new(&numerator, "numerator_finish"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn device_choices_parse_and_print() {
        for text in ["auto", "cpu", "gpu", "gpu:0", "gpu:12"] {
            assert_eq!(text.parse::<DeviceChoice>().unwrap().to_string(), text);
        }
        for bad in ["", "GPU", "gpu:", "gpu:x", "gpu:-1", "tpu"] {
            assert!(bad.parse::<DeviceChoice>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_cpu_choice_opens_no_adapter() {
        assert!(matches!(GpuContext::open(DeviceChoice::Cpu), Err(GpuError::NoAdapter(_))));
    }
}
