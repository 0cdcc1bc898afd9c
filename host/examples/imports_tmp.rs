fn main() {
    let path = std::env::args().nth(1).unwrap();
    let engine = wasmtime::Engine::default();
    let c = wasmtime::component::Component::from_file(&engine, &path).unwrap();
    let ty = c.component_type();
    let mut total = 0;
    for (name, item) in ty.imports(&engine) {
        if let wasmtime::component::types::ComponentItem::ComponentInstance(i) = item.ty {
            let n = i
                .exports(&engine)
                .filter(|e| {
                    matches!(
                        e.1.ty,
                        wasmtime::component::types::ComponentItem::ComponentFunc(_)
                    )
                })
                .count();
            total += n;
            println!("{n:4} {name}");
        } else {
            println!("   ? {name}");
        }
    }
    println!("{total} functions");
}
