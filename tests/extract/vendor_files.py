"""Write small files in each vendor's own layout (tags, blocks, groups), for the vendor plugin tests."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import tifffile


def gradient(shape: tuple[int, int] = (64, 96), dtype: str = "uint16") -> np.ndarray:
    """A non-uniform test image (so a preview of it can never be one colour)."""
    y, x = np.mgrid[0: shape[0], 0: shape[1]]
    return ((x * 7 + y * 13) % 251 * 100).astype(dtype)


def write_tiff(path: Path, tags: list[tuple], data: np.ndarray | None = None) -> Path:
    """A one-page TIFF with the vendor's private tags (``(code, dtype, count, value, writeonce)``)."""
    tifffile.imwrite(path, gradient() if data is None else data, extratags=tags, photometric="minisblack")
    return path


TESCAN_MAIN = """AccFrames=1
Date=2024-03-05
Time=14:22:10
Device=TESCAN AMBER X
DeviceModel=AMBER X
SerialNumber=119-0456
UserName=alice
Magnification=25000
PixelSizeX=4.6875e-09
PixelSizeY=4.6875e-09
SoftwareVersion=4.2.29.9346
"""
TESCAN_SEM = """Detector=SE
HV=15000
EmissionCurrent=0.000185
PredictedBeamCurrent=1.0e-10
DwellTime=3.2e-06
WD=0.00612
ScanRotation=12.5
StageX=0.00351
StageY=-0.00122
StageZ=0.0301
StageTilt=52
StageRotation=-30
"""


def tescan_blocks(main: str = TESCAN_MAIN, sem: str = TESCAN_SEM) -> bytes:
    """Tescan's tag 50431: uint32 size + uint16 type blocks (2 MAIN, 3 SEM), closed by a type-0 block."""
    out = b""
    for kind, body in ((1, b"\xff\xd8\xff\xd9"), (2, main.encode()), (3, sem.encode()), (0, b"")):
        out += struct.pack("<IH", len(body) + 2, kind) + body
    return out


def write_tescan(path: Path, blob: bytes | None = None) -> Path:
    blob = tescan_blocks() if blob is None else blob
    return write_tiff(path, [(50431, "B", len(blob), blob, True)])


def truncate(path: Path, out: Path, keep: float = 0.5) -> Path:
    """A copy of ``path`` cut after ``keep`` of its bytes (a transfer that stopped half-way)."""
    data = path.read_bytes()
    out.write_bytes(data[: int(len(data) * keep)])
    return out


def ini(sections: dict[str, dict[str, object]]) -> str:
    """INI text the way FEI writes it: ``[Section]`` then ``Key=value`` lines."""
    return "".join(f"[{name}]\n" + "".join(f"{k}={v}\n" for k, v in keys.items()) + "\n"
                   for name, keys in sections.items())


FEI_TEXT = ini({
    "User": {"Date": "03/05/2024", "Time": "02:22:10 PM", "User": "bob"},
    "System": {"Type": "DualBeam", "SystemType": "Helios 5 UX", "Software": "21.3.0"},
    "Beam": {"HV": 15000, "ScanRotation": 0.2181661565},
    "EBeam": {"HV": 15000, "BeamCurrent": "1.0e-10", "EmissionCurrent": 0.000185, "WD": 0.00412},
    "Scan": {"Dwelltime": "3e-06", "PixelWidth": "4.6875e-09", "PixelHeight": "4.6875e-09", "HorFieldsize": "4.5e-07"},
    "Stage": {"StageX": 0.00351, "StageY": -0.00122, "StageZ": 0.0301, "StageR": 0.5235988, "StageT": 0.9075712,
              "WorkingDistance": 0.00412},
    "Detectors": {"Number": 1, "Name": "ETD", "Mode": "SE"},
})

# A Titan TEM's TIFF export: same tag, TEM stage (alpha/beta tilt in radians), no scan section.
TITAN_TEXT = ini({
    "User": {"Date": "11/21/2023", "Time": "09:14:02 AM", "User": "supervisor"},
    "System": {"Type": "TEM", "SystemType": "Titan"},
    "Beam": {"HV": 300000},
    "Stage": {"StageX": 1.2e-05, "StageY": -4.5e-05, "StageZ": -2.1e-06, "StageA": 0.2617994, "StageB": 0},
    "Detectors": {"Name": "BM-Ceta"},
})


def write_fei(path: Path, text: str = FEI_TEXT) -> Path:
    """FEI/Thermo layout: the INI text (CRLF lines) as an ASCII tag 34682."""
    blob = text.replace("\n", "\r\n").encode() + b"\x00"
    return write_tiff(path, [(34682, "B", len(blob), blob, True)])


ORION_ZEISS_XML = """<?xml version="1.0" encoding="utf-8"?>
<ImageTags>
  <TimeStamp><Value>2024-03-05 14:22:10</Value></TimeStamp>
  <System><Model><Value>NanoFab</Value></Model><ColumnType><Value>GFIS</Value></ColumnType></System>
  <AccelerationVoltage><Value>29997</Value><Units>V</Units></AccelerationVoltage>
  <GFIS>
    <BeamCurrent><Value>0.938</Value><Units>pA</Units></BeamCurrent>
    <IonGas><Value>Helium</Value></IonGas>
  </GFIS>
  <DwellTime><Value>0.5</Value><Units>us</Units></DwellTime>
  <WorkingDistance><Value>11.977</Value><Units>mm</Units></WorkingDistance>
  <Fov><Value>9.6</Value><Units>um</Units></Fov>
  <ScanRotation><Value>15</Value><Units>deg</Units></ScanRotation>
  <StageX><Value>12.5</Value><Units>mm</Units></StageX>
  <StageY><Value>-3.25</Value><Units>mm</Units></StageY>
  <StageZ><Value>8.0</Value><Units>mm</Units></StageZ>
  <StageTilt><Value>0</Value><Units>deg</Units></StageTilt>
  <StageRotate><Value>45</Value><Units>deg</Units></StageRotate>
  <DetectorName><Value>ETDetector</Value></DetectorName>
</ImageTags>
"""

ORION_FIBICS_XML = """<?xml version="1.0" encoding="utf-8"?>
<Fibics version="1.0">
  <Application><Version>NPVE v4.5</Version><Date>2024-03-05 14:22:10</Date></Application>
  <Image><Width>96</Width><Height>64</Height><BitDepth>16</BitDepth></Image>
  <Scan>
    <Dwell units="ns">10000</Dwell>
    <FOV_X units="um">2.5</FOV_X>
    <FOV_Y units="um">1.6667</FOV_Y>
    <Rotation units="deg">30</Rotation>
  </Scan>
  <Stage>
    <X units="um">1500</X><Y units="um">-250</Y><Z units="um">8000</Z><Tilt units="deg">5</Tilt><Rot units="deg">90</Rot>
  </Stage>
  <BeamInfo>
    <item name="Beam">Orion</item>
    <item name="AccV" units="V">30000</item>
    <item name="BeamI" units="pA">0.52</item>
  </BeamInfo>
  <DetectorInfo><item name="Detector">ET</item></DetectorInfo>
</Fibics>
"""


def write_orion(path: Path, xml: str = ORION_ZEISS_XML, tag: int = 65000) -> Path:
    """Orion HIM layout: the XML as an ASCII tag (65000 Zeiss, 51023 Fibics)."""
    blob = xml.encode() + b"\x00"
    return write_tiff(path, [(tag, "B", len(blob), blob, True)])


def write_tofwerk(path: Path, depth: int = 3, ny: int = 8, nx: int = 10) -> Path:
    """A peak-integrated fibTOF file in TofDAQ's group layout (small: 3 slices of 8 x 10 pixels, 4 peaks)."""
    import h5py

    labels = [b"nominal 12", b"Si+", b"O2+", b"Xe+"]
    masses = [12.0, 27.977, 31.990, 131.904]
    rng = np.random.default_rng(7)
    with h5py.File(path, "w") as h5:
        h5.attrs["TofDAQ Version"] = np.float32(1.99)
        h5.attrs["NbrWrites"] = np.int32(depth)
        h5.attrs["NbrSegments"] = np.int32(ny)
        h5.attrs["NbrPeaks"] = np.int32(len(masses))
        h5.attrs["IonMode"] = b"positive"
        h5.attrs["HDF5 File Creation Time"] = b"05.03.2024 14:22:10"
        h5.attrs["DAQ Hardware"] = b"Cronologic Ndigo6G"
        fs = h5.create_group("FullSpectra")
        fs.attrs["MassCalibMode"] = np.int32(0)
        fs.attrs["SampleInterval"] = np.float64(1.25e-10)
        fs.create_dataset("MassAxis", data=np.linspace(0.5, 140, 2000, dtype=np.float32))
        h5.create_group("TimingData").attrs["TofPeriod"] = np.int32(9000)
        log = np.array([(0, b"2024-03-05T14:22:10+01:00", b"acquisition started")],
                       dtype=[("timestamp", "<u8"), ("timestring", "S26"), ("logtext", "S256")])
        h5.create_group("AcquisitionLog").create_dataset("Log", data=log)
        pd = h5.create_group("PeakData")
        table = np.array([(lab, m, m - 0.3, m + 0.3) for lab, m in zip(labels, masses)],
                         dtype=[("label", "S64"), ("mass", "<f4"), ("lower integration limit", "<f4"),
                                ("upper integration limit", "<f4")])
        pd.create_dataset("PeakTable", data=table)
        counts = rng.poisson(5.0, size=(depth, ny, nx, len(masses))).astype(np.float32)
        counts[:, : ny // 2, :, 1] += 40  # a silicon-rich half, so the total-ion image has contrast
        pd.create_dataset("PeakData", data=counts, chunks=(1, ny, nx, len(masses)))
        fib = h5.create_group("FIBParams")
        fib.attrs["FibHardware"] = b"Tescan"
        fib.attrs["Voltage"] = np.float64(30000.0)
        fib.attrs["Current"] = np.float64(1.0e-9)
        fib.attrs["ViewField"] = np.float64(0.05)
        h5.create_group("FIBImages").create_dataset("0000", data=gradient((16, 20), "uint8"))
    return path


def write_ser(path: Path, when: int = 1709648530, shape: tuple[int, int] = (12, 16), pixel: float = 2e-10) -> Path:
    """A TIA series of one 2-D element (version 0x0210): header, one dimension, offset arrays, element, time tag."""
    desc, units = b"Number", b""
    header = struct.pack("<HHHIIIII", 0x4949, 0x0197, 0x0210, 0x4122, 0x4152, 1, 1, 0)  # offset patched below
    header += struct.pack("<I", 1)  # NumberDimensions
    header += struct.pack("<IddI", 1, 0.0, 1.0, 0) + struct.pack("<I", len(desc)) + desc
    header += struct.pack("<I", len(units)) + units
    offsets_at = len(header)
    data_at = offsets_at + 8
    image = gradient(shape, "uint16")
    element = struct.pack("<ddIddIHII", 0.0, pixel, 0, 0.0, pixel, 0, 2, shape[1], shape[0]) + image.tobytes()
    tag_at = data_at + len(element)
    header = header[:22] + struct.pack("<I", offsets_at) + header[26:]
    body = header + struct.pack("<II", data_at, tag_at) + element + struct.pack("<HHI", 0x4152, 0, when)
    path.write_bytes(body)
    return path
