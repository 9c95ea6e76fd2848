//! Core results as Python objects: exactly what `json.loads` gives for their JSON (dicts with
//! keys in field order, lists, `str`, `int`, `float`, `bool`, `None`), built directly from the
//! Rust values, without writing and parsing the text in between.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use pyo3::IntoPyObjectExt;
use serde::ser::{self, Serialize};

/// `value` as Python objects, as its JSON would be read.
pub fn to_object<'py, T: Serialize + ?Sized>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    value.serialize(Objects { py }).map_err(|e| e.0)
}

/// Why a value could not be built: a Python error, or the value's own serializer failing.
#[derive(Debug)]
pub struct Failed(PyErr);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Failed {}

impl ser::Error for Failed {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Failed(PyValueError::new_err(msg.to_string()))
    }
}

impl From<PyErr> for Failed {
    fn from(e: PyErr) -> Self {
        Failed(e)
    }
}

type Built<'py> = Result<Bound<'py, PyAny>, Failed>;

/// The serializer: each value becomes the object `json.loads` makes of its JSON.
#[derive(Clone, Copy)]
struct Objects<'py> {
    py: Python<'py>,
}

impl<'py> Objects<'py> {
    fn any<T: IntoPyObject<'py>>(self, value: T) -> Built<'py> {
        Ok(value.into_bound_py_any(self.py)?)
    }

    /// `{variant: value}`, as serde_json writes an enum variant with content.
    fn tagged(self, variant: &str, value: Bound<'py, PyAny>) -> Built<'py> {
        let dict = PyDict::new(self.py);
        dict.set_item(variant, value)?;
        Ok(dict.into_any())
    }
}

/// A list being filled.
struct List<'py> {
    objects: Objects<'py>,
    list: Bound<'py, PyList>,
}

impl<'py> List<'py> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Failed> {
        Ok(self.list.append(value.serialize(self.objects)?)?)
    }
}

/// A dict being filled; `key` holds a map's key until its value comes.
struct Dict<'py> {
    objects: Objects<'py>,
    dict: Bound<'py, PyDict>,
    key: Option<Bound<'py, PyAny>>,
}

/// An enum variant with content, written `{variant: content}`.
struct Variant<C> {
    name: &'static str,
    content: C,
}

impl<'py> ser::Serializer for Objects<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Failed;
    type SerializeSeq = List<'py>;
    type SerializeTuple = List<'py>;
    type SerializeTupleStruct = List<'py>;
    type SerializeTupleVariant = Variant<List<'py>>;
    type SerializeMap = Dict<'py>;
    type SerializeStruct = Dict<'py>;
    type SerializeStructVariant = Variant<Dict<'py>>;

    fn serialize_bool(self, v: bool) -> Built<'py> {
        self.any(v)
    }
    fn serialize_i8(self, v: i8) -> Built<'py> {
        self.any(v)
    }
    fn serialize_i16(self, v: i16) -> Built<'py> {
        self.any(v)
    }
    fn serialize_i32(self, v: i32) -> Built<'py> {
        self.any(v)
    }
    fn serialize_i64(self, v: i64) -> Built<'py> {
        self.any(v)
    }
    fn serialize_u8(self, v: u8) -> Built<'py> {
        self.any(v)
    }
    fn serialize_u16(self, v: u16) -> Built<'py> {
        self.any(v)
    }
    fn serialize_u32(self, v: u32) -> Built<'py> {
        self.any(v)
    }
    fn serialize_u64(self, v: u64) -> Built<'py> {
        self.any(v)
    }
    fn serialize_f32(self, v: f32) -> Built<'py> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Built<'py> {
        // serde_json writes a non-finite float as null.
        if v.is_finite() {
            self.any(v)
        } else {
            self.serialize_unit()
        }
    }
    fn serialize_char(self, v: char) -> Built<'py> {
        self.any(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Built<'py> {
        Ok(PyString::new(self.py, v).into_any())
    }
    fn serialize_bytes(self, v: &[u8]) -> Built<'py> {
        // serde_json writes bytes as a list of numbers.
        self.any(PyList::new(self.py, v)?)
    }
    fn serialize_none(self) -> Built<'py> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Built<'py> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Built<'py> {
        Ok(self.py.None().into_bound(self.py))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Built<'py> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Built<'py> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Built<'py> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Built<'py> {
        let content = value.serialize(self)?;
        self.tagged(variant, content)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<List<'py>, Failed> {
        Ok(List {
            objects: self,
            list: PyList::empty(self.py),
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<List<'py>, Failed> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<List<'py>, Failed> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<List<'py>>, Failed> {
        Ok(Variant {
            name: variant,
            content: self.serialize_seq(Some(len))?,
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Dict<'py>, Failed> {
        Ok(Dict {
            objects: self,
            dict: PyDict::new(self.py),
            key: None,
        })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Dict<'py>, Failed> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Dict<'py>>, Failed> {
        Ok(Variant {
            name: variant,
            content: self.serialize_map(Some(len))?,
        })
    }
}

impl<'py> ser::SerializeSeq for List<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Failed;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Failed> {
        self.push(value)
    }
    fn end(self) -> Built<'py> {
        Ok(self.list.into_any())
    }
}

impl<'py> ser::SerializeTuple for List<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Failed;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Failed> {
        self.push(value)
    }
    fn end(self) -> Built<'py> {
        Ok(self.list.into_any())
    }
}

impl<'py> ser::SerializeTupleStruct for List<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Failed;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Failed> {
        self.push(value)
    }
    fn end(self) -> Built<'py> {
        Ok(self.list.into_any())
    }
}

impl<'py> ser::SerializeTupleVariant for Variant<List<'py>> {
    type Ok = Bound<'py, PyAny>;
    type Error = Failed;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Failed> {
        self.content.push(value)
    }
    fn end(self) -> Built<'py> {
        let objects = self.content.objects;
        objects.tagged(self.name, self.content.list.into_any())
    }
}

impl<'py> Dict<'py> {
    fn entry<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Failed> {
        Ok(self.dict.set_item(key, value.serialize(self.objects)?)?)
    }
}

impl<'py> ser::SerializeMap for Dict<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Failed;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Failed> {
        let key = key.serialize(self.objects)?;
        // serde_json writes a map's keys as strings: numbers become their text.
        self.key = Some(if key.is_instance_of::<PyString>() {
            key
        } else {
            key.str()?.into_any()
        });
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Failed> {
        let key = self
            .key
            .take()
            .ok_or_else(|| <Failed as ser::Error>::custom("a map value without its key"))?;
        Ok(self.dict.set_item(key, value.serialize(self.objects)?)?)
    }
    fn end(self) -> Built<'py> {
        Ok(self.dict.into_any())
    }
}

impl<'py> ser::SerializeStruct for Dict<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Failed;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Failed> {
        self.entry(key, value)
    }
    fn end(self) -> Built<'py> {
        Ok(self.dict.into_any())
    }
}

impl<'py> ser::SerializeStructVariant for Variant<Dict<'py>> {
    type Ok = Bound<'py, PyAny>;
    type Error = Failed;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Failed> {
        self.content.entry(key, value)
    }
    fn end(self) -> Built<'py> {
        let objects = self.content.objects;
        objects.tagged(self.name, self.content.dict.into_any())
    }
}
