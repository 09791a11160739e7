//! The vector-math library: each `vmath` function, for one lane type, is
//! compiled once per process into its own small module and called by kernels
//! (`jx_vm_sin_f64x2(F64X2) -> F64X2`). Kernels stay small, so compiling an
//! expression costs a fraction of what inlining the polynomials would; the
//! call costs a few cycles per vector next to a body of a hundred instructions.
//!
//! Kernel modules resolve `jx_vm_*` symbols through [`lookup`], which
//! compiles a function the first time it is asked for. Library code lives
//! until the process exits.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use cranelift_codegen::ir::{AbiParam, Function, InstBuilder, Type, UserFuncName, types};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{Linkage, Module};

use crate::backend::jit::call::{self, CodeMemory};
use crate::backend::jit::{Tier, new_module, runtime, vmath};
use crate::error::{Error, Result};
use crate::ir::op::{BinaryOp, UnaryOp};
use crate::types::DType;

/// A library function: an operation and the vector type it works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MathFn {
    /// One operand.
    Unary(UnaryOp, Type),
    /// Two operands.
    Binary(BinaryOp, Type),
}

impl MathFn {
    /// The symbol kernels import it by.
    pub fn symbol(self) -> String {
        let (name, ty) = match self {
            MathFn::Unary(op, ty) => (op.name(), ty),
            MathFn::Binary(op, ty) => (op.name(), ty),
        };
        format!(
            "jx_vm_{name}_{}",
            if ty == types::F32X4 { "f32x4" } else { "f64x2" }
        )
    }

    /// The vector type of its parameters and result.
    pub fn ty(self) -> Type {
        match self {
            MathFn::Unary(_, ty) | MathFn::Binary(_, ty) => ty,
        }
    }

    /// Number of parameters.
    pub fn arity(self) -> usize {
        match self {
            MathFn::Unary(..) => 1,
            MathFn::Binary(..) => 2,
        }
    }

    /// `true` if `vmath` implements it.
    pub fn exists(self) -> bool {
        let lanes_ok = matches!(self.ty(), t if t == types::F64X2 || t == types::F32X4);
        lanes_ok
            && match self {
                MathFn::Unary(op, _) => vmath::has_unary(op),
                MathFn::Binary(op, _) => vmath::has_binary(op),
            }
    }
}

struct Library {
    /// Requested functions by symbol (filled before kernels are finalized).
    known: HashMap<String, MathFn>,
    /// Compiled functions by symbol.
    compiled: HashMap<String, usize>,
    /// The modules they live in (never freed).
    code: Vec<CodeMemory>,
}

fn library() -> &'static Mutex<Library> {
    static LIBRARY: OnceLock<Mutex<Library>> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        Mutex::new(Library {
            known: HashMap::new(),
            compiled: HashMap::new(),
            code: Vec::new(),
        })
    })
}

/// Registers `f` so that [`lookup`] can resolve its symbol; returns the symbol.
pub fn request(f: MathFn) -> String {
    let symbol = f.symbol();
    let mut lib = library().lock().unwrap_or_else(|e| e.into_inner());
    lib.known.entry(symbol.clone()).or_insert(f);
    symbol
}

/// The address of a library function, compiling it on first use; `None`
/// for a symbol that is not a requested library function.
pub fn lookup(symbol: &str) -> Option<*const u8> {
    let mut lib = library().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&address) = lib.compiled.get(symbol) {
        return Some(address as *const u8);
    }
    let f = *lib.known.get(symbol)?;
    let (code, address) = compile(f, symbol).ok()?;
    lib.code.push(code);
    lib.compiled.insert(symbol.to_string(), address as usize);
    Some(address)
}

fn compile(f: MathFn, symbol: &str) -> Result<(CodeMemory, *const u8)> {
    // Compiled once per process and called by every kernel that needs it:
    // worth the optimizing compile.
    let mut module = new_module(Tier::Optimized)?;
    let ty = f.ty();
    let mut sig = module.make_signature();
    for _ in 0..f.arity() {
        sig.params.push(AbiParam::new(ty));
    }
    sig.returns.push(AbiParam::new(ty));
    let id = module
        .declare_function(symbol, Linkage::Local, &sig)
        .map_err(|e| Error::internal(format!("library declare: {e}")))?;
    let lane = if ty == types::F32X4 {
        DType::Float32
    } else {
        DType::Float64
    };
    let routine = match f {
        MathFn::Unary(op, _) => runtime::unary_routine(op, lane),
        MathFn::Binary(op, _) => runtime::binary_routine(op, lane),
    }
    .ok_or_else(|| Error::internal(format!("no reference routine for {symbol}")))?;
    let mut routines = HashMap::new();
    let routine_id = runtime::routine_id(&mut module, &mut routines, routine)?;
    let mut func = Function::with_name_signature(UserFuncName::user(0, id.as_u32()), sig);
    let mut fctx = FunctionBuilderContext::new();
    {
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let params = b.block_params(entry).to_vec();
        let fallback = module.declare_func_in_func(routine_id, b.func);
        let result = match f {
            MathFn::Unary(op, _) => vmath::unary(&mut b, op, params[0], ty, fallback),
            MathFn::Binary(op, _) => vmath::binary(&mut b, op, params[0], params[1], ty, fallback),
        }
        .ok_or_else(|| Error::internal(format!("vmath has no {symbol}")))?;
        b.ins().return_(&[result]);
        b.seal_all_blocks();
        b.finalize(module.target_config());
    }
    let mut ctx = module.make_context();
    ctx.func = func;
    module
        .define_function(id, &mut ctx)
        .map_err(|e| Error::internal(format!("library define {symbol}: {e:?}")))?;
    let (code, addresses) = call::finalize_addresses(module, &[id])
        .map_err(|e| Error::internal(format!("library finalize: {e}")))?;
    Ok((code, addresses[0]))
}
