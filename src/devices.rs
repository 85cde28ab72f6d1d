//! `zkinfer devices`: the CPU's field arithmetic and vector code, the GPU adapters wgpu finds, and which one
//! `--device auto` would take.

use clap::Args;
use zkinfer_gpu::{AdapterKind, list_adapters};

#[derive(Debug, Args)]
pub struct DevicesArgs {}

pub fn run(_args: &DevicesArgs) -> anyhow::Result<()> {
    println!("CPU field arithmetic: {}", zkinfer_engine::FIELD_ARITHMETIC);
    println!("CPU vector code: {}", zkinfer_engine::vector_code());
    let adapters = list_adapters();
    if adapters.is_empty() {
        println!("no GPU adapter found (is a Vulkan, Metal or DX12 driver installed?)");
        println!("--device auto proves on the CPU");
        return Ok(());
    }
    for adapter in &adapters {
        println!("{adapter}");
    }
    match adapters.iter().find(|a| a.kind == AdapterKind::Hardware) {
        Some(a) => println!(
            "--device auto proves on gpu:{} ({}) where a proof reaches the GPU's size cut-offs, on the CPU below them",
            a.index, a.name
        ),
        None => println!("--device auto proves on the CPU (no hardware GPU; --device gpu uses a software adapter)"),
    }
    Ok(())
}
